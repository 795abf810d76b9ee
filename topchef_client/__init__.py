"""topchef_client: the Python client library for the TopChef job server.

Workers subclass ``Client`` and implement ``run``; submitters use ``TopChef``.

The public names below are imported on first use, not with the package:
``import topchef_client`` (which the pytest plugin does in every pytest
session of a project that installs the package) then costs no requests,
jsonschema or sqlite3.
"""
import importlib
import logging
import sys
import types

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

#: The module each public name comes from; the exceptions come from
#: ``topchef_client.exceptions``.
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


def _load(package, name):
    """Import the public ``name`` from its home module and keep it on ``package``."""
    if name not in __all__:
        raise AttributeError("module %r has no attribute %r" % (__name__, name))
    home = importlib.import_module("%s.%s" % (__name__, _HOMES.get(name, "exceptions")))
    value = getattr(home, name)
    setattr(package, name, value)
    return value


def _names(package):
    return sorted(set(vars(package)) | set(__all__))


if sys.version_info >= (3, 7):
    def __getattr__(name):
        return _load(sys.modules[__name__], name)

    def __dir__():
        return _names(sys.modules[__name__])
else:  # pragma: no cover - exercised by the 2.7 and 3.6 test runs
    class _LazyPackage(types.ModuleType):
        """The package, resolving its public names on first use (PEP 562 before 3.7)."""

        def __getattr__(self, name):
            if name.startswith("__"):
                raise AttributeError(name)
            return _load(self, name)

        def __dir__(self):
            return _names(self)

    # Python 2.7 cannot change a module's class, so the package is replaced in
    # sys.modules by an instance that holds the same namespace.
    _package = _LazyPackage(__name__)
    _package.__dict__.update(globals())
    # Python 2.7 empties a module's namespace when the module object dies,
    # and the functions above still read theirs: keep the original alive.
    _package.__dict__["_original_module"] = sys.modules[__name__]
    sys.modules[__name__] = _package

logging.getLogger(__name__).addHandler(logging.NullHandler())
