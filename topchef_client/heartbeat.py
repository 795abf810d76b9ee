"""The heartbeat: the thread that tells the server a worker is alive."""
import logging
import threading

from topchef_client import defaults
from topchef_client.compat import monotonic
from topchef_client.exceptions import TopChefError
from topchef_client.lifecycle import ALIVE, RUNNING
from topchef_client.polling import Backoff

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Optional, Tuple  # noqa: F401

log = logging.getLogger("topchef_client.worker")

#: The longest pause between heartbeats, whatever timeout a service states.
MAX_HEARTBEAT_INTERVAL = 3600.0
#: A goodbye is one attempt that waits no longer than this: a worker that
#: stops must not hang on a server that is down.
GOODBYE_TIMEOUT = 1.0


def heartbeat_interval(service_timeout):
    # type: (Any) -> float
    """A third of the service's timeout (at most an hour); the default for a strange one."""
    try:
        timeout = float(service_timeout)  # type: Optional[float]
    except (TypeError, ValueError, OverflowError):
        timeout = None
    # The server may state anything: a NaN or negative timeout would make the
    # heartbeat spin, an infinite one would kill it (Condition.wait).
    if timeout is None or not 0 < timeout < float("inf"):
        timeout = defaults.DEFAULT_SERVICE_TIMEOUT
    return min(timeout / defaults.HEARTBEATS_PER_TIMEOUT, MAX_HEARTBEAT_INTERVAL)


class Heartbeat(object):
    """The heartbeat of one worker, in a daemon thread of its own.

    It beats while the worker's lifecycle is alive (starting, running or
    winding down) and ends when the worker is stopping. Its first beat
    once the worker runs is a hello (on 2017 servers it marks the service
    available); ``goodbye()`` says the worker has stopped.

    :param worker: the ``Client`` whose service, connection, lifecycle,
        health and stats it uses.
    """

    def __init__(self, worker):
        self.worker = worker
        self.thread = None  # type: Optional[threading.Thread]
        self.said_hello = self._hello_tried = False
        self._next_beat_at = None  # type: Optional[float]

    def reset(self):
        # type: () -> None
        """Forget the last run: no thread, no hello said (a start without a heartbeat)."""
        self.thread = None
        self.said_hello = self._hello_tried = False

    @property
    def interval(self):
        # type: () -> float
        """Seconds between heartbeats: as configured, or a third of the service's timeout."""
        if self.worker.configured_heartbeat_interval is not None:
            return self.worker.configured_heartbeat_interval
        service = self.worker.binding.service
        return heartbeat_interval(service.timeout if service is not None else None)

    def start(self, may_beat=True):
        # type: (bool) -> threading.Thread
        """Start the thread; with ``may_beat`` false, it beats only after ``allow()``.

        The first beat is the hello, as soon as the worker runs; a worker
        that takes longer than a heartbeat interval to start checks in
        meanwhile, so that its service does not time out.
        """
        self.reset()
        self._next_beat_at = monotonic() + self.interval if may_beat else None
        self.thread = threading.Thread(target=self._loop,
                                       name="topchef-heartbeat-%s" % self.worker.id[:8])
        self.thread.daemon = True
        self.thread.start()
        return self.thread

    def allow(self):
        # type: () -> None
        """Let a heartbeat started with ``may_beat=False`` beat from now on."""
        self._next_beat_at = monotonic() + self.interval
        self.worker.lifecycle.wake()

    def join(self, timeout):
        # type: (Optional[float]) -> bool
        """Wait up to ``timeout`` seconds for the thread to end; return whether it has."""
        if self.thread is None:
            return True
        self.thread.join(timeout)
        return not self.thread.is_alive()

    def _wait_is_over(self, state):
        if state not in ALIVE:
            return True
        # Recovery of abandoned jobs may be waiting for another worker's
        # heartbeat to lapse: this one must not beat until allowed.
        return self._next_beat_at is not None and (
            monotonic() >= self._next_beat_at or
            (state == RUNNING and not self._hello_tried))

    def _loop(self):
        worker = self.worker
        lifecycle = worker.lifecycle
        backoff = Backoff(worker.failure_backoff, worker.max_failure_backoff)
        while True:
            wait = None if self._next_beat_at is None else self._next_beat_at - monotonic()
            lifecycle.wait_for(self._wait_is_over, timeout=wait)
            if lifecycle.state not in ALIVE:
                return
            if not self._wait_is_over(lifecycle.state):
                continue  # allowed meanwhile: wait for the new time
            hello = lifecycle.state == RUNNING and not self.said_hello
            self._hello_tried = self._hello_tried or hello
            try:
                worker.binding.ensure()
                # Single attempts: this loop retries with its own backoff,
                # and a stop never waits for a heartbeat's retries.
                if hello:
                    worker.connection.announce(worker.id, True, timeout=self._request_timeout(),
                                               retry=False)
                    self.said_hello = True
                else:
                    worker.connection.heartbeat(worker.id, timeout=self._request_timeout(),
                                                retry=False)
                worker.stats.add("heartbeats_sent")
                worker.health.succeeded("heartbeat")
                backoff.reset()
                pause = self.interval
            except Exception as error:
                worker.stats.add("heartbeats_failed")
                worker.health.failed("heartbeat", error)
                pause = min(backoff.next(), self.interval)
            self._next_beat_at = monotonic() + pause

    def _request_timeout(self):
        """A hung heartbeat must not outlast its own interval."""
        timeout = self.worker.connection.timeout
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        return (connect, min(read, self.interval))

    def goodbye(self):
        # type: () -> None
        """Say the worker stopped (2017: clear ``is_available``): one short attempt."""
        if not self.said_hello:
            return
        try:
            self.worker.connection.announce(self.worker.id, False, timeout=GOODBYE_TIMEOUT,
                                            retry=False)
        except TopChefError as error:
            log.warning("could not mark service %s unavailable: %s", self.worker.id, error)
