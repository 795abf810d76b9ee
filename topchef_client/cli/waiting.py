"""Waiting for jobs from a terminal: ``topchef wait`` and ``topchef submit --wait``.

Each poll is ``TopChef.wait_all`` with no time to wait, which asks the
server once and says which jobs are not finished yet, as last seen; between
polls the progress line shows them. The pause between polls grows from
``DEFAULT_WAIT_POLL_INTERVAL`` to ``DEFAULT_MAX_WAIT_POLL_INTERVAL``, as
``wait_all``'s own.
"""
import contextlib
import time

from topchef_client import defaults
from topchef_client.cli.errors import Terminated
from topchef_client.compat import monotonic
from topchef_client.exceptions import JobWaitTimeout

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Callable, List, Optional, Sequence, Union  # noqa: F401
    from topchef_client.models import Job  # noqa: F401
    from topchef_client.producer import TopChef  # noqa: F401


def wait_for(topchef, jobs, timeout, progress=None):
    # type: (TopChef, Sequence[Union[Job, str]], Optional[float], Optional[Callable[..., Any]]) -> List[Job]
    """Wait for ``jobs`` to finish; return them finished, in the order given.

    :param progress: called after each poll with the number finished and
        the unfinished jobs as last seen.
    :raises JobWaitTimeout: not all finished within ``timeout`` seconds; the
        message names the unfinished ones and their last status.
    """
    jobs = list(jobs)
    pending = list(jobs)  # type: List[Any]
    deadline = None if timeout is None else monotonic() + timeout
    pause = defaults.DEFAULT_WAIT_POLL_INTERVAL
    while True:
        try:
            finished = topchef.wait_all(pending, timeout=0)
            if len(pending) < len(jobs):
                # Some finished in earlier polls: ask for all, results included
                # (one may have been put back in the queue meanwhile).
                finished = topchef.wait_all(jobs, timeout=0)
            return finished
        except JobWaitTimeout as unfinished:
            pending = unfinished.jobs
        if progress is not None:
            progress(len(jobs) - len(pending), pending)
        remaining = None if deadline is None else deadline - monotonic()
        if remaining is not None and remaining <= 0:
            raise JobWaitTimeout(timeout_message(pending, timeout or 0.0), pending)
        time.sleep(pause if remaining is None else min(pause, remaining))
        pause = min(pause * 1.5, defaults.DEFAULT_MAX_WAIT_POLL_INTERVAL)


def timeout_message(jobs, timeout):
    # type: (Sequence[Job], float) -> str
    shown = ", ".join("%s (last status %s)" % (job.id, job.status) for job in jobs[:3])
    if len(jobs) > 3:
        shown += " and %d more" % (len(jobs) - 3)
    return "%d job(s) did not finish within %g s: %s; topchef wait goes on waiting" % (
        len(jobs), timeout, shown)


@contextlib.contextmanager
def resumable(job_ids):
    """A Ctrl-C (or SIGTERM) inside says how to go on waiting for ``job_ids``."""
    try:
        yield
    except (KeyboardInterrupt, Terminated) as stop:
        raise type(stop)("stopped waiting; topchef wait %s waits again" % " ".join(job_ids))
