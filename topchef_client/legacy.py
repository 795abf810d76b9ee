"""The names of the original TopChef client, kept for the scripts written for it.

``Client`` inherits them from ``OriginalClientNames``; each is a thin alias
of today's name, documented as such.
"""
from topchef_client.exceptions import ProcessingError
from topchef_client.schemas import Schema

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    import threading  # noqa: F401
    from typing import Any, Dict, Optional, Type, TypeVar  # noqa: F401
    from topchef_client.models import Job  # noqa: F401
    T = TypeVar("T")


class OriginalClientNames(object):
    """``Client``'s names from the original client (mixed in; not used alone)."""

    @classmethod
    def new_service(cls, address, name, description, job_registration_schema,
                    job_result_schema=None, **options):
        # type: (Type[T], str, str, str, Dict[str, Any], Optional[Dict[str, Any]], **Any) -> T
        """The original client's name for ``register_service``."""
        return cls.register_service(  # type: ignore[attr-defined]
            address, name, description, job_registration_schema, job_result_schema,
            **options)

    @property
    def service_id(self):
        # type: () -> str
        """The id of the worker's service (also ``id``, the original name)."""
        return self.id  # type: ignore[attr-defined]

    @property
    def timeout(self):
        # type: () -> float
        """The original client's name for ``heartbeat_interval``."""
        return self.heartbeat_interval  # type: ignore[attr-defined]

    @property
    def polling_thread(self):
        # type: () -> Optional[threading.Thread]
        """The original client's name for ``heartbeat_thread``."""
        return self.heartbeat_thread  # type: ignore[attr-defined]

    @property
    def processing_thread(self):
        # type: () -> Optional[threading.Thread]
        """The first processing thread (the original client had one)."""
        threads = self.processing_threads  # type: ignore[attr-defined]
        return threads[0] if threads else None

    @property
    def job_registration_schema(self):
        # type: () -> Dict[str, Any]
        """The schema every job's parameters satisfy (fetched once)."""
        binding = self.binding  # type: ignore[attr-defined]
        binding.ensure()
        return binding.parameter_schema.schema

    @property
    def job_result_schema(self):
        # type: () -> Dict[str, Any]
        """The schema every result must satisfy (fetched once)."""
        binding = self.binding  # type: ignore[attr-defined]
        binding.ensure()
        return binding.result_schema.schema

    @property
    def is_server_alive(self):
        # type: () -> bool
        """Whether the server answers at all; never raises."""
        return self.connection.is_alive()  # type: ignore[attr-defined]

    def validate_schema(self, instance, schema):
        # type: (Any, Dict[str, Any]) -> None
        """Raise ``ValidationError`` if ``instance`` breaks ``schema`` (checked locally)."""
        Schema(schema).validate(instance)

    def run_iteration(self):
        # type: () -> Optional[Job]
        """Run one queued job, as the original client did; return it or None.

        :raises ProcessingError: the job failed (and is reported as failed).
        """
        job = self.process_one()  # type: ignore[attr-defined]
        if job is not None and job.is_failed:
            raise ProcessingError("job %s failed: %s" % (
                job.id, (job.error or {}).get("message", job.status)))
        return job
