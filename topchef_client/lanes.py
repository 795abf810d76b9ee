"""The processing threads of a worker, one lane each, and their replacement."""
import logging
import threading

from topchef_client.compat import monotonic
from topchef_client.lifecycle import DRAINING, RUNNING

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Iterable, List, Optional  # noqa: F401
    from topchef_client.models import Job  # noqa: F401

log = logging.getLogger("topchef_client.worker")


def join_all(threads, deadline):
    # type: (Iterable[Optional[threading.Thread]], Optional[float]) -> None
    """Join the threads (None entries skipped, the caller too) by a shared monotonic deadline."""
    current = threading.current_thread()
    for thread in threads:
        if thread is not None and thread is not current:
            thread.join(None if deadline is None else max(0.0, deadline - monotonic()))


class Lane(object):
    """The place of one processing thread: its thread and the job it is on.

    ``abandoned`` means the lane was given up (``stop_now``, or a time limit
    that could not interrupt its ``run``): its thread writes no outcome,
    since the job went back to the queue or was reported by someone else.
    ``reporting`` means the job's outcome is being written: it is then too
    late to give the job up. ``deadline`` is when its running job's time
    limit passes (monotonic seconds), or None. ``child`` is its child
    process in process isolation.
    """

    def __init__(self, number):
        # type: (int) -> None
        self.number = number
        self.thread = None  # type: Optional[threading.Thread]
        self.job = None  # type: Optional[Job]
        self.abandoned = False
        self.reporting = False
        self.deadline = None  # type: Optional[float]
        self.interrupted = False
        self.child = None  # type: Any

    def __repr__(self):
        return "<Lane %d%s%s>" % (self.number, " abandoned" if self.abandoned else "",
                                  " on job %s" % self.job.id if self.job else "")


class Lanes(object):
    """The processing threads of one worker, a lane each.

    :param worker: the ``Client``, whose ``processor`` runs in each thread.
    :param on_last_end: called (in that thread) when the last live lane ends.
    """

    def __init__(self, worker, on_last_end):
        self.worker = worker
        self._on_last_end = on_last_end
        self._lock = threading.Lock()
        self.lanes = []  # type: List[Lane]
        self._live = set()  # type: set

    @property
    def threads(self):
        # type: () -> List[threading.Thread]
        return [lane.thread for lane in self.lanes if lane.thread is not None]

    @property
    def threads_not_given_up(self):
        # type: () -> List[threading.Thread]
        return [lane.thread for lane in self.lanes
                if lane.thread is not None and not lane.abandoned]

    def start(self, count):
        # type: (int) -> None
        """Start ``count`` lanes, each with its thread."""
        with self._lock:
            self.lanes = [Lane(number) for number in range(1, count + 1)]
            self._live = set(self.lanes)
            for lane in self.lanes:
                self._start_thread(lane)

    def _start_thread(self, lane):
        lane.thread = threading.Thread(
            target=self._main, args=(lane,),
            name="topchef-worker-%s-%d" % (self.worker.id[:8], lane.number))
        lane.thread.daemon = True
        lane.thread.start()

    def _main(self, lane):
        try:
            self.worker.processor.loop(lane)
        finally:
            with self._lock:
                was_live = lane in self._live
                self._live.discard(lane)
                last = was_live and not self._live
            if last:
                self._on_last_end()

    def give_up(self):
        # type: () -> List[Lane]
        """Stop counting on the lanes (``stop_now``); return them, to abandon."""
        with self._lock:
            self._live = set()
            return list(self.lanes)

    def replace(self, lane):
        # type: (Lane) -> Optional[Lane]
        """Put a new lane, with a new thread, in the place of an abandoned one.

        The worker then goes on at its full thread count. Returns the new
        lane, or None when the worker is winding down (then, if that was the
        last live lane, the worker finishes its shutdown).
        """
        with self._lock:
            if lane not in self._live:
                return None
            self._live.discard(lane)
            fresh = None
            if self.worker.lifecycle.state in (RUNNING, DRAINING):
                fresh = Lane(lane.number)
                self.lanes[self.lanes.index(lane)] = fresh
                self._live.add(fresh)
                self._start_thread(fresh)
            last = not self._live
        if fresh is not None:
            log.warning("processing thread %d abandoned (its run() could not be stopped); "
                        "a new one takes its place", lane.number)
        if last:
            self._on_last_end()
        return fresh
