"""Running ``run``: error reports, result checks, and thread isolation.

An execution calls the worker's ``run`` for one job and returns a result
fit to send, or raises ``RunFailed`` with the error report to write. Thread
isolation (here) calls it in the processing thread, held to the time limit
by a ``limits.Timekeeper``; process isolation (``isolation``) in a child
process.
"""
import os
import sys
import traceback

import six

from topchef_client import defaults
from topchef_client.documents import json_bytes
from topchef_client.exceptions import ProcessingError, Retry, TimeLimitExceeded, ValidationError
from topchef_client.limits import Timekeeper

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Dict, List, Optional  # noqa: F401
    from topchef_client.lanes import Lane  # noqa: F401
    from topchef_client.models import Job  # noqa: F401

#: The package's own directory: its frames are left out of the tracebacks
#: of a job's failure, which show the user's code.
LIBRARY_DIRECTORY = os.path.dirname(os.path.abspath(__file__))


class RunFailed(Exception):
    """``run`` failed: ``report`` is what to write.

    ``retry``: it asked for ``Retry`` (``delay`` seconds later); ``crashed``:
    it killed the child process it ran in.
    """

    def __init__(self, report, retry=False, delay=None, crashed=False, error=None):
        # type: (Dict[str, Any], bool, Optional[float], bool, Optional[BaseException]) -> None
        Exception.__init__(self, report.get("message"))
        self.report = report
        self.error = error  # the exception itself, where it was raised here
        self.retry = retry
        self.delay = delay
        self.crashed = crashed


def bounded(text, limit, keep_end=False):
    # type: (str, int, bool) -> str
    """``text`` cut to about ``limit`` characters, saying how much was cut."""
    if len(text) <= limit:
        return text
    cut = "... [%d characters cut] ..." % (len(text) - limit)
    return cut + text[-limit:] if keep_end else text[:limit] + cut


def describe_error(error):
    # type: (BaseException) -> str
    """``str(error)``, even when its ``__str__`` fails, cut to the report's size."""
    try:
        text = six.text_type(error)
    except Exception:
        text = "<%s whose message cannot be shown>" % type(error).__name__
    return bounded(text, defaults.MAX_ERROR_MESSAGE)


def error_report(error, with_traceback=True, skip_library_frames=True):
    # type: (BaseException, bool, bool) -> Dict[str, Any]
    """What a failed job's result says of ``error`` (call it while handling ``error``).

    ``{"type", "message"}``, and ``"traceback"``: the frames of the user's
    code (the library's are left out), cut to ``MAX_ERROR_TRACEBACK``
    characters from the end. A ``Retry`` raised while handling another
    exception reports that exception, the last error before the retry.
    """
    cause = getattr(error, "__cause__", None) or getattr(error, "__context__", None)
    if isinstance(error, Retry) and cause is not None:
        error = cause
        frames = traceback.extract_tb(cause.__traceback__) if hasattr(
            cause, "__traceback__") else []
    else:
        frames = traceback.extract_tb(sys.exc_info()[2])
    message = describe_error(error)
    report = {"type": type(error).__name__, "message": message}  # type: Dict[str, Any]
    if with_traceback:
        if skip_library_frames:
            while frames and os.path.abspath(frames[0][0]).startswith(LIBRARY_DIRECTORY):
                frames = frames[1:]
        body = bounded("".join(traceback.format_list(frames)), defaults.MAX_ERROR_TRACEBACK,
                       keep_end=True)
        report["traceback"] = "Traceback (most recent call last):\n%s%s: %s\n" % (
            body, type(error).__name__, message)
    return report


def checked_result(result, binding):
    # type: (Any, Any) -> Dict[str, Any]
    """``result`` if it is a dict that JSON can carry and the result schema accepts.

    :raises ProcessingError: it is not; the message says why.
    """
    if not isinstance(result, dict):
        raise ProcessingError("run() returned %s, not a dict" % type(result).__name__)
    try:
        json_bytes(result, "the result")
    except ValueError as error:
        raise ProcessingError("run() returned a result that JSON cannot encode: %s"
                              % (error,))
    try:
        binding.validate_result(result)
    except ValidationError as invalid:
        raise ProcessingError("run() returned a result that breaks the "
                              "job_result_schema: %s" % invalid)
    return result


def time_limit_report(time_limit, stuck=False):
    # type: (float, bool) -> Dict[str, Any]
    """The error report of a job that ran past its time limit."""
    message = "run() ran past its time limit of %g s" % time_limit
    if stuck:
        message += (" and could not be interrupted (it was in a call Python cannot break "
                    "into); its thread was abandoned")
    return {"type": TimeLimitExceeded.__name__, "message": message}


class ThreadExecution(object):
    """Calls ``run`` in the processing thread itself (``isolation="thread"``)."""

    def __init__(self, worker):
        self.worker = worker
        self.timekeeper = Timekeeper(worker) if worker.time_limit is not None else None

    def start(self):
        # type: () -> None
        if self.timekeeper is not None:
            self.timekeeper.start()

    def stop(self):
        # type: () -> None
        if self.timekeeper is not None:
            self.timekeeper.stop()

    def prepare(self, lane):
        # type: (Lane) -> None
        """Make ``lane`` ready to take a job: here it is (setup ran at start)."""

    def release(self, lane):
        # type: (Lane) -> None
        """``lane`` takes no more jobs (its thread is ending)."""

    def abandon(self, lane):
        # type: (Lane) -> None
        """Give up the ``run`` under way in ``lane``: a thread cannot be stopped, so nothing."""

    def run(self, job, lane):
        # type: (Job, Lane) -> Any
        """Call ``run(job.parameters)``; its result, or ``RunFailed``."""
        timekeeper = self.timekeeper
        processor = self.worker.processor
        processor.set_current_job(job)
        try:
            try:
                if timekeeper is not None:
                    timekeeper.begin(lane)
                try:
                    result = self.worker.run(job.parameters)
                finally:
                    interrupted = timekeeper is not None and timekeeper.end(lane)
            except Retry as retry:
                raise RunFailed(error_report(retry), retry=True, delay=retry.delay, error=retry)
            except TimeLimitExceeded:
                if timekeeper is None:
                    raise
                raise RunFailed(time_limit_report(timekeeper.time_limit))
            if interrupted:  # run() swallowed its TimeLimitExceeded
                raise RunFailed(time_limit_report(timekeeper.time_limit))
            return result
        except RunFailed:
            raise
        except (Exception, SystemExit, KeyboardInterrupt) as error:
            raise RunFailed(error_report(error), error=error)
        finally:
            processor.set_current_job(None)
