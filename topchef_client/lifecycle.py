"""The one state of a worker, which every part of it reads and waits on.

::

    STOPPED --start()--> STARTING --ready--> RUNNING
                                                |
              stop() / signal / burst done:  DRAINING   (no new job; running ones finish)
              stop_now():                    ABANDONING (running jobs go back to the queue)
                                                |
              last processing thread ends:   STOPPING   (teardown, heartbeat ends, goodbye)
                                                |
                                             STOPPED

STARTING, RUNNING and DRAINING may also go straight to ABANDONING.
"""
import threading

from topchef_client.compat import monotonic

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Callable, Iterable, Optional  # noqa: F401

STOPPED = "stopped"
STARTING = "starting"
RUNNING = "running"
DRAINING = "draining"
ABANDONING = "abandoning"
STOPPING = "stopping"

#: The states in which the heartbeat goes on.
ALIVE = frozenset([STARTING, RUNNING, DRAINING, ABANDONING])
#: The states in which a worker takes no new job.
WINDING_DOWN = frozenset([DRAINING, ABANDONING, STOPPING])


class Lifecycle(object):
    """A worker's state, with a condition to wait for it to change."""

    def __init__(self):
        self._condition = threading.Condition(threading.Lock())
        self._state = STOPPED

    @property
    def state(self):
        # type: () -> str
        return self._state

    def __repr__(self):
        return "<Lifecycle %s>" % self._state

    def move(self, new, allowed_from):
        # type: (str, Iterable[str]) -> bool
        """Enter ``new`` if the state is one of ``allowed_from``; return whether it did."""
        with self._condition:
            if self._state not in allowed_from:
                return False
            self._state = new
            self._condition.notify_all()
            return True

    def move_from_signal_handler(self, new, allowed_from):
        # type: (str, Iterable[str]) -> bool
        """``move`` without the lock, which the interrupted thread may hold.

        Waiters see the change when their current wait ends (waits are
        short slices); the caller wakes them properly as soon as it can.
        """
        if self._state not in allowed_from:
            return False
        self._state = new
        return True

    def wake(self):
        # type: () -> None
        """Wake every waiter so it reads the state again."""
        with self._condition:
            self._condition.notify_all()

    def wait_for(self, predicate, timeout=None, slice=None):
        # type: (Callable[[str], bool], Optional[float], Optional[float]) -> bool
        """Wait until ``predicate(state)`` holds or ``timeout`` passes; return whether it holds.

        ``slice`` bounds each wait, for callers that must look up now and
        then (the main thread, where Python 2.7 runs signal handlers only
        between waits).
        """
        deadline = None if timeout is None else monotonic() + timeout
        with self._condition:
            while not predicate(self._state):
                remaining = None if deadline is None else deadline - monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                if slice is not None:
                    remaining = slice if remaining is None else min(remaining, slice)
                self._condition.wait(remaining)
            return True
