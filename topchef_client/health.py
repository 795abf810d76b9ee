"""How a worker is doing: its counters and whether its last attempts failed."""
import logging
import threading

from topchef_client.exceptions import TopChefError

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Dict, Optional, Set  # noqa: F401
    from topchef_client.models import Job  # noqa: F401

log = logging.getLogger("topchef_client.worker")


class WorkerStats(object):
    """Counters of a worker, safe to read from any thread.

    ``jobs_completed``, ``jobs_failed`` (run raised, broke the result schema,
    ran past its time limit, crashed its process, or could not be written),
    ``jobs_invalid`` (parameters that break the schema, also failed),
    ``jobs_retried`` (put back after ``Retry``), ``jobs_recovered`` (put back
    after a dead worker left them WORKING), ``heartbeats_sent``/``_failed``,
    ``polls``/``polls_failed``, ``threads_abandoned`` (a run that a time
    limit could not interrupt) and ``child_processes_died`` (process
    isolation).
    """

    jobs_completed = jobs_failed = jobs_invalid = jobs_retried = jobs_recovered = 0  # type: int
    heartbeats_sent = heartbeats_failed = polls = polls_failed = 0  # type: int
    threads_abandoned = child_processes_died = 0  # type: int

    names = ("jobs_completed", "jobs_failed", "jobs_invalid", "jobs_retried",
             "jobs_recovered", "heartbeats_sent", "heartbeats_failed", "polls",
             "polls_failed", "threads_abandoned", "child_processes_died")

    def __init__(self):
        self._lock = threading.Lock()
        for name in self.names:
            setattr(self, name, 0)

    def add(self, name):
        # type: (str) -> None
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def as_dict(self):
        # type: () -> Dict[str, int]
        with self._lock:
            return dict((name, getattr(self, name)) for name in self.names)

    def __repr__(self):
        return "WorkerStats(%s)" % ", ".join(
            "%s=%d" % (name, value) for name, value in sorted(self.as_dict().items()))


class Health(object):
    """Which of a worker's activities (polling, heartbeat, ...) failed last time.

    Each activity reports each attempt; the worker is healthy while none's
    last attempt failed. Failures are logged here, once each.
    """

    def __init__(self):
        self._failing = set()  # type: Set[str]
        self.last_error = None  # type: Optional[BaseException]

    @property
    def healthy(self):
        # type: () -> bool
        return not self._failing

    def succeeded(self, activity):
        # type: (str) -> None
        self._failing.discard(activity)

    def failed(self, activity, error, job=None):
        # type: (str, BaseException, Optional[Job]) -> None
        """Record and log a failure (call it while handling ``error``)."""
        self._failing.add(activity)
        self.last_error = error
        where = " for job %s" % job.id if job is not None else ""
        if isinstance(error, TopChefError):
            log.warning("%s failed%s: %s", activity, where, error)
        else:
            log.error("%s failed%s", activity, where, exc_info=True)
