"""topchef_client: the Python client library for the TopChef job server.

Workers subclass ``Client`` and implement ``run``; submitters use ``TopChef``.
"""
import logging

__version__ = "0.1.0"

from topchef_client.api import Connection  # noqa: E402
from topchef_client.exceptions import (  # noqa: E402
    BadRequest, JobFailed, JobNotFound, JobWaitTimeout, NetworkError, NotFound,
    ProcessingError, ProtocolError, ResponseError, ResponseTimeout, ServerError,
    ServiceNotFound, TopChefError, ValidationError)
from topchef_client.models import (  # noqa: E402
    COMPLETED, ERROR, REGISTERED, STATUSES, WORKING, Job, Service)
from topchef_client.producer import TopChef  # noqa: E402
from topchef_client.worker import Client  # noqa: E402

__all__ = [
    # Running jobs
    "Client",
    # Submitting jobs
    "TopChef", "Connection",
    # Models
    "Service", "Job", "REGISTERED", "WORKING", "COMPLETED", "ERROR", "STATUSES",
    # Exceptions
    "TopChefError", "NetworkError", "ResponseTimeout", "ResponseError", "BadRequest",
    "NotFound", "ServiceNotFound", "JobNotFound", "ServerError", "ProtocolError",
    "ValidationError", "ProcessingError", "JobFailed", "JobWaitTimeout",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
