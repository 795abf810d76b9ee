"""How a worker is bound to its service: its connection, and the service fetched once."""
import logging
import threading

from topchef_client import defaults
from topchef_client.api import Connection, given_connection
from topchef_client.compat import monotonic
from topchef_client.exceptions import ValidationError
from topchef_client.schemas import Schema

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Dict, Optional  # noqa: F401
    from typing import List, Tuple  # noqa: F401
    from topchef_client.models import Service  # noqa: F401

log = logging.getLogger("topchef_client.worker")

#: After a validation failure the schemas are fetched again, at most this often.
SCHEMA_REFRESH_INTERVAL = 10.0
#: Keyword arguments of ``Client`` that configure its ``Connection``.
CONNECTION_OPTIONS = ("request_timeout", "retries", "auth", "headers", "verify", "cert",
                      "session", "pool_size", "generation")


def connection_for(address, connection_options):
    # type: (str, Dict[str, Any]) -> Connection
    """A ``Connection`` from the ``Client`` keyword arguments that configure one."""
    connection_options = dict(connection_options)
    if "request_timeout" in connection_options:
        connection_options["timeout"] = connection_options.pop("request_timeout")
    return Connection(address, **connection_options)


def worker_connection(worker, address, connection, connection_options):
    # type: (Any, str, Optional[Connection], Dict[str, Any]) -> Connection
    """The connection of a new worker: ``connection``, or one made from the options."""
    unknown = set(connection_options) - set(CONNECTION_OPTIONS)
    if unknown:
        raise TypeError("%s() got unexpected keyword arguments: %s" % (
            type(worker).__name__, ", ".join(sorted(unknown))))
    if connection is None:
        connection_options.setdefault("pool_size", max(defaults.DEFAULT_POOL_SIZE,
                                                       worker.threads + 2))
        return connection_for(address, connection_options)
    return given_connection(connection, connection_options)


def register(address, name, description, job_registration_schema, job_result_schema,
             service_timeout, worker_options):
    # type: (str, str, str, Dict[str, Any], Optional[Dict[str, Any]], Optional[int], Dict[str, Any]) -> Tuple[Connection, Service, List[Schema]]
    """Register a service for ``Client.register_service``: (connection, service, schemas).

    The connection options are taken out of ``worker_options``; the schemas
    are compiled first, so that a broken one fails before the service exists.
    """
    connection = worker_options.pop("connection", None) or connection_for(address, dict(
        (key, worker_options.pop(key)) for key in list(worker_options)
        if key in CONNECTION_OPTIONS))
    if job_result_schema is None:
        job_result_schema = {"type": "object"}
    schemas = [Schema(job_registration_schema, "parameters"),
               Schema(job_result_schema, "result")]
    service = connection.register_service(name, description, job_registration_schema,
                                          job_result_schema, service_timeout)
    log.info("registered service %s (%s)", service.id, name)
    return connection, service, schemas


class ServiceBinding(object):
    """The service of one worker: its description, timeout and schemas.

    The service is fetched at first use; ``validate_parameters`` and
    ``validate_result`` then cost no request. When a document fails, the
    schemas are fetched again (at most every ``SCHEMA_REFRESH_INTERVAL``
    seconds) in case the service changed, unless they were given by the
    worker that registered the service.
    """

    def __init__(self, connection, service_id):
        # type: (Connection, str) -> None
        self.connection = connection
        self.id = service_id
        self.service = None  # type: Optional[Service]
        self.parameter_schema = None  # type: Optional[Schema]
        self.result_schema = None  # type: Optional[Schema]
        self._from_server = True
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def ensure(self):
        # type: () -> Service
        """The service, fetched at the first call; later calls are free."""
        if self.service is None:
            with self._lock:
                if self.service is None:
                    self.fetch()
        return self.service  # type: ignore[return-value]

    def fetch(self, retry=True):
        # type: (bool) -> Service
        """Fetch the service and its schemas now (``retry=False``: in a single attempt)."""
        service = self.connection.get_service(self.id, retry=retry)
        self.use(service, Schema(service.job_registration_schema or {}, "parameters"),
                 Schema(service.job_result_schema or {}, "result"), from_server=True)
        return service

    def use(self, service, parameter_schema, result_schema, from_server):
        # type: (Service, Schema, Schema, bool) -> None
        """Take these as the service and its schemas (``from_server``: as the server has them)."""
        self.parameter_schema = parameter_schema
        self.result_schema = result_schema
        self._from_server = from_server
        self._fetched_at = monotonic()
        self.service = service

    def validate_parameters(self, parameters):
        # type: (Any) -> None
        """Raise ``ValidationError`` unless ``parameters`` satisfy the registration schema."""
        self._validate("parameter_schema", parameters)

    def validate_result(self, result):
        # type: (Any) -> None
        """Raise ``ValidationError`` unless ``result`` satisfies the result schema."""
        self._validate("result_schema", result)

    def _validate(self, which, document):
        self.ensure()
        try:
            getattr(self, which).validate(document)
        except ValidationError:
            if not self._from_server or \
                    monotonic() - self._fetched_at < SCHEMA_REFRESH_INTERVAL:
                raise
            with self._lock:
                # Threads that failed together fetch once: the first one.
                if monotonic() - self._fetched_at >= SCHEMA_REFRESH_INTERVAL:
                    self.fetch()
            getattr(self, which).validate(document)
