"""``LocalTopChef``: the submitter of the ``topchef_api`` fixture.

A ``TopChef`` whose ``wait`` and ``wait_all`` poll a local server every few
milliseconds at first, where a plain one, made for real servers, waits a
tenth of a second before it looks again: a test that waits for a job which
its worker finishes in a millisecond then takes a millisecond too.
"""
from topchef_client import defaults
from topchef_client.producer import TopChef

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Callable, Iterable, List, Optional, Union  # noqa: F401
    from topchef_client.models import Job  # noqa: F401

#: Seconds between the first looks of ``wait`` and ``wait_all`` at the server.
WAIT_POLL_INTERVAL = 0.002
#: The longest pause between two looks (the pause grows by half each time).
MAX_WAIT_POLL_INTERVAL = 0.05


class LocalTopChef(TopChef):
    """A ``TopChef`` for tests against a local server; only its waits differ."""

    def wait(self, job, timeout=defaults.DEFAULT_WAIT_TIMEOUT,
             poll_interval=WAIT_POLL_INTERVAL, max_poll_interval=MAX_WAIT_POLL_INTERVAL):
        # type: (Union[Job, str], Optional[float], float, float) -> Any
        return TopChef.wait(self, job, timeout, poll_interval, max_poll_interval)

    def wait_all(self, jobs, timeout=defaults.DEFAULT_WAIT_TIMEOUT,
                 poll_interval=WAIT_POLL_INTERVAL, max_poll_interval=MAX_WAIT_POLL_INTERVAL,
                 raise_on_failure=False, progress=None):
        # type: (Iterable[Union[Job, str]], Optional[float], float, float, bool, Optional[Callable[[int], Any]]) -> List[Job]
        return TopChef.wait_all(self, jobs, timeout, poll_interval, max_poll_interval,
                                raise_on_failure, progress)
