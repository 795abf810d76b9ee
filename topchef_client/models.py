"""Services and jobs as the library hands them out, whatever the server generation."""
import uuid

import six

from topchef_client.compat import parse_timestamp
from topchef_client.exceptions import ServiceNotFound
from topchef_client.options import describe

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Dict, Optional, Tuple, Type  # noqa: F401
    from topchef_client.exceptions import NotFound  # noqa: F401


# A job starts REGISTERED; a worker sets it WORKING, then COMPLETED or (on a
# 2017 server) ERROR. The server itself enforces no order.

#: Submitted and waiting in the queue.
REGISTERED = "REGISTERED"
#: Claimed by a worker, which is running it.
WORKING = "WORKING"
#: Finished with a result (on a 2016 server, possibly an error result).
COMPLETED = "COMPLETED"
#: Failed (2017 servers only).
ERROR = "ERROR"
#: Every status, in the order a job normally goes through them.
STATUSES = (REGISTERED, WORKING, COMPLETED, ERROR)

#: The key under which a worker reports a failed job in its result:
#: ``{"error": {"type": ..., "message": ..., "traceback": ...}}``. On a 2016
#: server, which has no ERROR status, such a result is the only sign of
#: failure, and its job is COMPLETED.
ERROR_KEY = "error"


class _Model(object):
    """Equality and repr from a list of field names."""

    _fields = ()  # type: Tuple[str, ...]

    def __eq__(self, other):
        # type: (object) -> bool
        return type(self) is type(other) and all(
            getattr(self, name) == getattr(other, name) for name in self._fields)

    def __ne__(self, other):
        # type: (object) -> bool
        return not self == other

    __hash__ = None  # type: ignore  # mutable, compared by value

    def __repr__(self):
        # type: () -> str
        return "%s(%s)" % (type(self).__name__, ", ".join(
            "%s=%r" % (name, getattr(self, name)) for name in self._fields
            if getattr(self, name) is not None))


class Service(_Model):
    """A TopChef service: a kind of job, with the schemas of its input and output.

    Fields a server generation does not report are None: 2016 servers report
    no ``timeout`` or ``is_available``; 2017 service lists report no
    ``has_timed_out``; list items of both carry no schemas.
    """

    _fields = ("id", "name", "description", "job_registration_schema",
               "job_result_schema", "timeout", "has_timed_out", "is_available")

    def __init__(self, id, name=None, description=None, job_registration_schema=None,
                 job_result_schema=None, timeout=None, has_timed_out=None,
                 is_available=None):
        # type: (str, Optional[str], Optional[str], Optional[Dict[str, Any]], Optional[Dict[str, Any]], Optional[int], Optional[bool], Optional[bool]) -> None
        self.id = id
        self.name = name
        self.description = description
        self.job_registration_schema = job_registration_schema
        self.job_result_schema = job_result_schema
        #: Seconds without a heartbeat after which the server calls the
        #: service timed out.
        self.timeout = timeout
        self.has_timed_out = has_timed_out
        #: Whether a worker declared itself available (2017 servers only).
        self.is_available = is_available


class Job(_Model):
    """A TopChef job: parameters for a service, and in time a status and result.

    ``parameters`` is None where the server left them out (2016 queues and
    job lists); ``result`` is None until a result is written;
    ``date_submitted`` is an aware UTC datetime.
    """

    _fields = ("id", "status", "parameters", "result", "date_submitted", "service_id")

    def __init__(self, id, status=None, parameters=None, result=None,
                 date_submitted=None, service_id=None):
        # type: (str, Optional[str], Optional[Dict[str, Any]], Optional[Dict[str, Any]], Any, Optional[str]) -> None
        self.id = id
        self.status = status
        self.parameters = parameters
        self.result = result
        if not hasattr(date_submitted, "tzinfo"):
            date_submitted = parse_timestamp(date_submitted)
        self.date_submitted = date_submitted
        #: The service the job belongs to, where it is known.
        self.service_id = service_id

    @property
    def error(self):
        # type: () -> Optional[Dict[str, Any]]
        """The failure a worker reported in the result, as a dict, or None."""
        if isinstance(self.result, dict):
            error = self.result.get(ERROR_KEY)
            if isinstance(error, dict) and "type" in error and "message" in error:
                return error
        return None

    @property
    def is_failed(self):
        # type: () -> bool
        """Whether the job ended in error: ERROR, or COMPLETED with an error result."""
        return self.status == ERROR or (self.status == COMPLETED and self.error is not None)

    @property
    def is_complete(self):
        # type: () -> bool
        """Whether the job ended with a real result."""
        return self.status == COMPLETED and not self.is_failed

    @property
    def is_finished(self):
        # type: () -> bool
        """Whether the job has ended, successfully or not."""
        return self.status in (COMPLETED, ERROR)


def canonical_id(value, not_found):
    # type: (Any, Type[NotFound]) -> str
    """The canonical text of a service or job id.

    Both servers only ever mint UUIDs, so anything else cannot exist; saying
    so here saves a request, and the 500 that a 2016 server answers for such
    ids (docs/server-api.rst quirk non-uuid-service-jobs-500).

    :param not_found: the exception to raise, ``ServiceNotFound`` or ``JobNotFound``.
    """
    if isinstance(value, uuid.UUID):
        return str(value)
    try:
        return str(uuid.UUID(six.text_type(value)))
    except (ValueError, TypeError):
        raise not_found("%s %s does not exist: TopChef ids are UUIDs" % (
            "service" if not_found is ServiceNotFound else "job",
            describe(value, with_type=False)))
