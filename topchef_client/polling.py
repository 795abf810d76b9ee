# -*- coding: utf-8 -*-
"""How a worker finds jobs: one poll of the queue at a time, never a busy loop.

``JobSource`` hands queued jobs to a worker's processing threads. The
threads share one page of the queue; when it is used up, one of them polls
again while the others wait for its page. An empty queue is polled again
after a pause that doubles while it stays empty; a non-empty one at once.
``Contention`` tells when another worker seems to take jobs of the same
queue, so that each job's status is read before it is claimed.
"""
import logging
import random
import threading

from topchef_client.compat import monotonic

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Callable, Dict, List, Optional, Set  # noqa: F401
    from topchef_client.models import Job  # noqa: F401


log = logging.getLogger("topchef_client.worker")

#: A job is picked at random among this many of the oldest queued ones, so
#: that two workers of one service rarely claim the same job (docs/server-api.rst §7).
PICK_WINDOW = 10


class Backoff(object):
    """Exponential pauses: about ``first``, twice that, ... up to ``cap``.

    With ``jitter`` each pause is drawn from its upper half, so that clients
    that failed together retry apart; without it the pauses are exact, and
    ``cap`` is then also the least pause once reached.
    """

    def __init__(self, first, cap, jitter=True):
        # type: (float, float, bool) -> None
        self.first = float(first)
        self.cap = max(float(cap), self.first)
        self.jitter = jitter
        self._next = self.first

    def next(self):
        # type: () -> float
        """The pause to take now; the following one will be longer."""
        pause = self._next
        self._next = min(self._next * 2, self.cap)
        if not self.jitter:
            return pause
        return pause / 2 + random.uniform(0, pause / 2)

    def reset(self):
        # type: () -> None
        self._next = self.first


class JobSource(object):
    """The queue of one service, as seen by the threads of one worker process.

    :param fetch: a callable returning the queue's current page (``Job`` list).
    :param idle: the ``Backoff`` of pauses after an empty page.
    :param failing: the ``Backoff`` of pauses after a failed poll.
    :param serving: a callable telling whether jobs may be handed out now
        (the worker's state); call ``wake()`` when its answer changes.

    A job is in flight from ``take()`` to ``done()``. Jobs in flight, and
    jobs done since the page being read was requested, are left out of
    every page: the server may list them as REGISTERED still, and running
    them again would run them twice.
    """

    def __init__(self, fetch, idle, failing, serving=lambda: True):
        # type: (Callable[[], List[Job]], Backoff, Backoff, Callable[[], bool]) -> None
        self._fetch = fetch
        self._idle = idle
        self._failing = failing
        self._serving = serving
        self._condition = threading.Condition(threading.Lock())
        self._page = []  # type: List[Job]
        self._in_flight = {}  # type: Dict[str, Job]
        self._done_lately = set()  # type: Set[str]
        self._held = {}  # type: Dict[str, float]  # job id -> not before (monotonic)
        self._skipped = set()  # type: Set[str]
        self._polling = False
        self._next_poll_at = 0.0
        self.burst = False
        self.burst_done = False

    def take(self, wait=True):
        # type: (bool) -> Optional[Job]
        """A job to run, or None.

        With ``wait``, it may wait for another thread's poll or for the pause
        after an empty page, and returns None after a poll that found nothing
        (or failed: the error propagates) so the caller can check whether to
        stop. Without ``wait``, it polls at once if it has no job. It returns
        None at once whenever ``serving()`` is false.
        """
        with self._condition:
            while True:
                if not self._serving() or self.burst_done:
                    return None
                if self._page:
                    return self._pick()
                if not self._polling:
                    delay = self._next_poll_at - monotonic()
                    if delay <= 0 or not wait:
                        break
                    self._condition.wait(delay)
                else:
                    self._condition.wait(1.0)
            self._polling = True
            done_before_poll = set(self._done_lately)
        try:
            page = self._fetch()
        except Exception:
            with self._condition:
                self._polling = False
                self._next_poll_at = monotonic() + self._failing.next()
                self._condition.notify_all()
            raise
        with self._condition:
            self._polling = False
            self._failing.reset()
            now = monotonic()
            for job_id, until in list(self._held.items()):
                if until <= now:
                    del self._held[job_id]
            fresh = [job for job in page
                     if job.id not in self._in_flight and job.id not in self._done_lately and
                     job.id not in self._held and job.id not in self._skipped]
            # Whatever was done before this poll began cannot appear in a later page.
            self._done_lately -= done_before_poll
            self._page.extend(fresh)
            if fresh:
                self._idle.reset()
                self._next_poll_at = 0.0
            else:
                self._next_poll_at = monotonic() + self._idle.next()
                if self._held:
                    # A burst is not done while a retry waits for its delay.
                    self._next_poll_at = min(self._next_poll_at, min(self._held.values()))
                elif self.burst:
                    self.burst_done = True
            self._condition.notify_all()
            # A stop may have come while the page was on its way.
            return self._pick() if self._page and self._serving() else None

    def _pick(self):
        job = self._page.pop(random.randrange(min(len(self._page), PICK_WINDOW)))
        self._in_flight[job.id] = job
        return job

    def done(self, job):
        # type: (Job) -> None
        """The job taken is finished (or given up): forget it, but not too soon."""
        with self._condition:
            self._in_flight.pop(job.id, None)
            self._done_lately.add(job.id)

    def drop_page(self):
        # type: () -> None
        """Forget the rest of the page: it is stale (another worker took one of its jobs)."""
        with self._condition:
            self._page = []

    def hold(self, job_id, until):
        # type: (str, float) -> None
        """Leave the job out of pages until the monotonic time ``until`` (a retry's delay)."""
        with self._condition:
            self._held[job_id] = until

    def skip(self, job_id):
        # type: (str) -> None
        """Leave the job out of every page from now on (a job that cannot be written)."""
        with self._condition:
            self._skipped.add(job_id)

    def in_flight(self):
        # type: () -> List[Job]
        """The jobs taken and not yet done."""
        with self._condition:
            return list(self._in_flight.values())

    def wake(self):
        # type: () -> None
        """Make waiting ``take()`` calls look at ``serving()`` again now."""
        with self._condition:
            self._condition.notify_all()

    def restart(self, burst=False):
        # type: (bool) -> None
        """Start afresh for a new run of the worker: forget the old page."""
        with self._condition:
            self._page = []
            self._next_poll_at = 0.0
            self.burst = burst
            self.burst_done = False


#: A worker alone on its service reads the status of one job in this many
#: before claiming it, where the queue gave everything else: the probe that
#: notices another worker at a cost of a twentieth of a request per job...
PROBE_EVERY = 20
#: ... and of each of its first jobs, when workers started together would
#: otherwise run one page twice.
PROBE_FIRST = 10
#: Once a job it was about to claim turned out taken, a worker reads the
#: status of every job before claiming it, for this many seconds.
CONTENTION_MEMORY = 60.0


class Contention(object):
    """Whether another worker seems to take jobs from the same queue.

    TopChef has no atomic claim (docs/server-api.rst §7): two workers that
    read the same page of a queue that carries parameters (2017) would both
    run most of its jobs. Reading a job's status just before claiming it
    makes that rare, but costs a request per job; so a worker does it for
    its first ``PROBE_FIRST`` jobs and then one job in ``PROBE_EVERY`` until
    a probe finds a job taken, and then for every job until
    ``CONTENTION_MEMORY`` seconds pass without such a sign.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._jobs = 0
        self._until = 0.0

    def should_recheck(self):
        # type: () -> bool
        with self._lock:
            self._jobs += 1
            return (self._jobs <= PROBE_FIRST or self._jobs % PROBE_EVERY == 0 or
                    monotonic() < self._until)

    def saw_another_worker(self):
        # type: () -> None
        with self._lock:
            if monotonic() >= self._until:
                log.warning("another worker takes jobs of this service too: reading each "
                            "job's status before claiming it (run one worker process per "
                            "service, with threads=N)")
            self._until = monotonic() + CONTENTION_MEMORY
