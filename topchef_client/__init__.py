"""topchef_client: the Python client library for the TopChef job server.

Workers subclass ``Client`` and implement ``run``; submitters use ``TopChef``.

The public names below are imported on first use, not with the package:
``import topchef_client`` (which the pytest plugin does in every pytest
session of a project that installs the package) then costs no requests,
jsonschema or sqlite3.
"""
import logging

from topchef_client.lazy import load_names_lazily as _load_names_lazily

__version__ = "0.1.0"

__all__ = [
    # Running jobs
    "Client", "Retry",
    # Submitting jobs
    "TopChef", "Connection",
    # Models
    "Service", "Job", "REGISTERED", "WORKING", "COMPLETED", "ERROR", "STATUSES",
    # Exceptions
    "TopChefError", "NetworkError", "ResponseTimeout", "ResponseError", "BadRequest",
    "NotFound", "ServiceNotFound", "JobNotFound", "ServerError", "ProtocolError",
    "ValidationError", "ProcessingError", "TimeLimitExceeded", "JobCrashed", "JobFailed",
    "JobWaitTimeout",
]

#: The module each public name comes from (the others: ``exceptions``).
_HOMES = {"Client": "worker", "TopChef": "producer", "Connection": "api",
          "Service": "models", "Job": "models", "REGISTERED": "models",
          "WORKING": "models", "COMPLETED": "models", "ERROR": "models",
          "STATUSES": "models"}

MYPY = False
if MYPY:  # what a type checker and an editor see, without the lazy loading
    from topchef_client.api import Connection  # noqa: F401
    from topchef_client.exceptions import (  # noqa: F401
        BadRequest, JobCrashed, JobFailed, JobNotFound, JobWaitTimeout, NetworkError,
        NotFound, ProcessingError, ProtocolError, ResponseError, ResponseTimeout, Retry,
        ServerError, ServiceNotFound, TimeLimitExceeded, TopChefError, ValidationError)
    from topchef_client.models import (  # noqa: F401
        COMPLETED, ERROR, REGISTERED, STATUSES, WORKING, Job, Service)
    from topchef_client.producer import TopChef  # noqa: F401
    from topchef_client.worker import Client  # noqa: F401
del MYPY

logging.getLogger(__name__).addHandler(logging.NullHandler())
_load_names_lazily(__name__, dict(
    (name, "%s.%s" % (__name__, _HOMES.get(name, "exceptions"))) for name in __all__))
