"""Clocks for the local server: the real one, and one that tests move by hand."""
import threading
import time


class SystemClock(object):
    """The wall clock, in POSIX seconds."""

    def __call__(self):
        # type: () -> float
        return time.time()

    def __repr__(self):
        return "SystemClock()"


class ManualClock(object):
    """A clock that stands still until a test moves it.

    Give one to ``LocalServer(clock=...)`` to make a service time out without
    sleeping::

        clock = ManualClock()
        with LocalServer(clock=clock) as server:
            ...
            clock.advance(31)   # every service not heard from is now timed out
    """

    def __init__(self, start=1500000000.0):
        # type: (float) -> None
        self._now = float(start)
        self._lock = threading.Lock()

    def __call__(self):
        # type: () -> float
        with self._lock:
            return self._now

    def advance(self, seconds):
        # type: (float) -> float
        """Move the clock forward by ``seconds`` and return the new time."""
        with self._lock:
            self._now += float(seconds)
            return self._now

    def set(self, seconds):
        # type: (float) -> None
        """Put the clock at ``seconds`` since the epoch."""
        with self._lock:
            self._now = float(seconds)

    def __repr__(self):
        return "ManualClock(%r)" % self()
