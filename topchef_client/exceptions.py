"""Every exception the library raises, under one root::

    TopChefError
     +-- NetworkError (IOError)          the server could not be reached
     |    +-- ResponseTimeout            ... or did not answer in time
     +-- ResponseError                   the server answered with an error status
     |    +-- BadRequest (ValueError)    4xx: the server refused the request
     |    +-- NotFound (LookupError)     404: no such service or job
     |    |    +-- ServiceNotFound
     |    |    +-- JobNotFound
     |    +-- ServerError                5xx: the server failed
     +-- ProtocolError                   the answer is not what the API promises
     +-- ValidationError (ValueError)    a document breaks its JSON Schema
     +-- ProcessingError (RuntimeError)  a worker's run() failed or gave a bad result
     |    +-- TimeLimitExceeded          ... ran past its time limit
     |    +-- JobCrashed                 ... killed the process it ran in
     +-- JobFailed                       a waited-for job ended in error
     +-- JobWaitTimeout                  a waited-for job did not finish in time

    Retry                                raised by run() to have its job run again

Catch ``TopChefError`` for everything. Errors that come from an HTTP exchange
carry ``method``, ``url`` (any password removed), ``status_code`` and
``body`` (an excerpt), and name them in their message.
"""
import six

from topchef_client.defaults import ERROR_BODY_EXCERPT

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Iterable, Optional  # noqa: F401


# On Python 2, str() gives the message as UTF-8 bytes (a body excerpt may not
# be ASCII) and unicode() gives it as text.
@six.python_2_unicode_compatible
class TopChefError(Exception):
    """Raised when anything the library does fails: the root of every exception here."""

    def __init__(self, message, method=None, url=None, status_code=None, body=None):
        # type: (str, Optional[str], Optional[str], Optional[int], Optional[str]) -> None
        Exception.__init__(self, message)
        self.message = message
        self.method = method
        self.url = url
        self.status_code = status_code
        self.body = body

    def __str__(self):
        return six.text_type(self.message)


class NetworkError(TopChefError, IOError):
    """Raised when the server cannot be reached or the connection fails."""


class ResponseTimeout(NetworkError):
    """Raised when the server does not answer within the read timeout."""


class ResponseError(TopChefError):
    """Raised when the server answers with an error status."""


class BadRequest(ResponseError, ValueError):
    """Raised when the server refuses a request as malformed (4xx)."""


class NotFound(ResponseError, LookupError):
    """Raised when a service or job does not exist on the server."""


class ServiceNotFound(NotFound):
    """Raised when a service does not exist on the server."""


class JobNotFound(NotFound):
    """Raised when a job does not exist on the server."""


class ServerError(ResponseError):
    """Raised when the server fails to answer a request (5xx)."""


class ProtocolError(TopChefError):
    """Raised when an answer is not what the TopChef API promises."""


class ValidationError(TopChefError, ValueError):
    """Raised when job parameters or a result break their JSON Schema.

    ``path`` is the failing instance path (a list of keys and indexes),
    ``schema_path`` the path of the failing keyword in the schema, and
    ``errors`` every problem found, as strings. ``context`` is kept for
    scripts written for the original client.
    """

    def __init__(self, message, path=(), schema_path=(), errors=(), **http):
        # type: (str, Iterable[Any], Iterable[Any], Iterable[str], **Any) -> None
        TopChefError.__init__(self, message, **http)
        self.path = list(path)
        self.schema_path = list(schema_path)
        self.errors = list(errors) or [message]
        self.context = self.errors


class ProcessingError(TopChefError, RuntimeError):
    """Raised when a worker's ``run`` raises, or returns an invalid result."""


class TimeLimitExceeded(ProcessingError):
    """Raised when a job runs past its worker's ``time_limit``.

    The worker raises it inside a ``run`` that overstays (and reports the
    job as failed with it), so it can be created without a message.
    """

    def __init__(self, message="run() exceeded its time limit", **http):
        # type: (str, **Any) -> None
        ProcessingError.__init__(self, message, **http)


class JobCrashed(ProcessingError):
    """Raised when the child process running a job dies (a signal, an exit)."""


class Retry(Exception):
    """Raised by ``run`` to put its job back in the queue and run it again.

    :param message: why (it ends up in the error report if the retries run out).
    :param delay: seconds before the job is run again here; None: the
        worker's failure backoff, growing with each attempt.

    A worker runs a job again at most ``max_retries`` times; then the job
    fails with the last error and the number of attempts.
    """

    def __init__(self, message="run() asked to run the job again", delay=None):
        # type: (str, Optional[float]) -> None
        Exception.__init__(self, message)
        if delay is not None:
            from topchef_client.options import seconds
            delay = seconds("delay", delay, allow_zero=True, maximum=86400.0)
        self.delay = delay


class JobFailed(TopChefError):
    """Raised when a job that is waited for ends in error; ``job`` holds it."""

    def __init__(self, message, job):
        # type: (str, Any) -> None
        TopChefError.__init__(self, message)
        self.job = job


class JobWaitTimeout(TopChefError):
    """Raised when a job that is waited for does not finish in time.

    ``jobs`` holds the unfinished jobs as last seen.
    """

    def __init__(self, message, jobs):
        # type: (str, Iterable[Any]) -> None
        TopChefError.__init__(self, message)
        self.jobs = list(jobs)


def excerpt(body, limit=ERROR_BODY_EXCERPT):
    # type: (Any, int) -> str
    """A short, one-line excerpt of a response body for a message."""
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    body = " ".join((body or "").split())
    if len(body) > limit:
        body = body[:limit] + "..."
    return body
