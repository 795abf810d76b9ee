"""What a worker knows of its service: fetched once, its schemas compiled once."""
import threading

from topchef_client.compat import monotonic
from topchef_client.exceptions import ValidationError
from topchef_client.schemas import Schema

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Dict, Optional  # noqa: F401
    from topchef_client.api import Connection  # noqa: F401
    from topchef_client.models import Service  # noqa: F401

#: After a validation failure the schemas are fetched again, at most this often.
SCHEMA_REFRESH_INTERVAL = 10.0


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

    def fetch(self):
        # type: () -> Service
        """Fetch the service and its schemas now."""
        service = self.connection.get_service(self.id)
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
                self.fetch()
            getattr(self, which).validate(document)
