"""Time limits in thread isolation: the timekeeper and its interruptions.

A ``run`` that overstays its ``time_limit`` first gets ``TimeLimitExceeded``
raised inside its thread (an asynchronous exception, which Python delivers
between two bytecodes). A ``run`` stuck in a call that Python cannot break
into (a C library, a blocking ``time.sleep``) does not see it: after
``INTERRUPT_GRACE`` seconds more, the timekeeper reports the job as failed
itself, gives the lane up, and has a new processing thread take its place.
Whatever that ``run`` returns later is discarded.
"""
import ctypes
import logging
import sys
import threading

from topchef_client.compat import monotonic
from topchef_client.exceptions import TimeLimitExceeded
from topchef_client.lifecycle import ALIVE

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Dict, Optional  # noqa: F401
    from topchef_client.lanes import Lane  # noqa: F401

log = logging.getLogger("topchef_client.worker")

#: Seconds between the interruption of an overdue ``run`` and the moment its
#: job is reported without it and its thread abandoned.
INTERRUPT_GRACE = 1.0


def raise_in_thread(thread_id, exception_class):
    # type: (int, Optional[type]) -> bool
    """Have ``exception_class`` raised in the thread ``thread_id`` (None: cancel that).

    Returns whether the thread exists.
    """
    set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
    # The thread id is an unsigned long from Python 3.7 on, a long before.
    id_type = ctypes.c_ulong if sys.version_info >= (3, 7) else ctypes.c_long
    exception = ctypes.py_object(exception_class) if exception_class is not None else None
    return set_async_exc(id_type(thread_id), exception) == 1


class Timekeeper(object):
    """Holds the running jobs of a worker's lanes to its ``time_limit``.

    :param worker: the ``Client``; its processor reports a job the
        timekeeper takes over, and its lanes replace an abandoned thread.
    """

    def __init__(self, worker):
        self.worker = worker
        self.time_limit = worker.time_limit  # type: float
        self._condition = threading.Condition(threading.Lock())
        self._watched = {}  # type: Dict[Lane, int]
        self.thread = None  # type: Optional[threading.Thread]

    def start(self):
        # type: () -> None
        self.thread = threading.Thread(target=self._loop,
                                       name="topchef-timekeeper-%s" % self.worker.id[:8])
        self.thread.daemon = True
        self.thread.start()

    def stop(self):
        # type: () -> None
        with self._condition:
            self._condition.notify_all()

    def begin(self, lane):
        # type: (Lane) -> None
        """The calling thread starts the ``run`` of ``lane.job``."""
        with self._condition:
            lane.deadline = monotonic() + self.time_limit
            lane.interrupted = False
            self._watched[lane] = threading.current_thread().ident  # type: ignore[assignment]
            self._condition.notify_all()

    def end(self, lane):
        # type: (Lane) -> bool
        """The ``run`` of ``lane.job`` returned or raised; return whether it was interrupted.

        An interruption sent but not delivered yet is cancelled, so it
        cannot strike the library's code after ``run``.
        """
        with self._condition:
            thread_id = self._watched.pop(lane, None)
            lane.deadline = None
            if lane.interrupted and thread_id is not None:
                raise_in_thread(thread_id, None)
            return lane.interrupted

    def _loop(self):
        lifecycle = self.worker.lifecycle
        while lifecycle.state in ALIVE:
            overdue = []
            with self._condition:
                now = monotonic()
                wake_at = None
                for lane, thread_id in list(self._watched.items()):
                    due = lane.deadline + (INTERRUPT_GRACE if lane.interrupted else 0.0)
                    if due <= now:
                        overdue.append((lane, thread_id))
                    else:
                        wake_at = due if wake_at is None else min(wake_at, due)
                for lane, thread_id in overdue:
                    if not lane.interrupted:
                        lane.interrupted = True
                        raise_in_thread(thread_id, TimeLimitExceeded)
                        log.warning("job %s ran past its time limit of %g s: interrupting it",
                                    lane.job.id if lane.job else "?", self.time_limit)
                stuck = [lane for lane, _ in overdue if lane.deadline is not None and
                         lane.deadline + INTERRUPT_GRACE <= now]
                for lane in stuck:
                    # The interruption never came through: cancel it, or it
                    # would strike whatever that thread runs once its call returns.
                    raise_in_thread(self._watched.pop(lane), None)
                if not overdue:
                    # Wake at the next deadline, or in a while to see the state.
                    self._condition.wait(1.0 if wake_at is None else min(1.0, wake_at - now))
            for lane in stuck:
                self.worker.processor.take_over(lane, self.time_limit)
