# -*- coding: utf-8 -*-
"""``Connection``: every operation of the TopChef API, on either server generation.

A ``Connection`` sends through a ``transport.Transport`` (HTTP, retries,
errors) and asks ``GET /`` once which API generation the server speaks; from
then on one of the two adapters of ``generations`` carries each operation,
so its callers see the same models and exceptions from both.
"""
import logging
import threading

from six.moves.collections_abc import Mapping

from topchef_client import options
from topchef_client.exceptions import JobNotFound, NotFound, ServiceNotFound, TopChefError
from topchef_client.generations import GENERATIONS, Generation2016, Generation2017, detect
from topchef_client.models import ERROR_KEY, canonical_id
from topchef_client.transport import (  # noqa: F401  (names scripts import from here)
    NO_BODY, Reply, Transport, make_retry, redact_url, split_credentials)

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple, Type, Union  # noqa: F401
    from typing import Mapping as MappingType  # noqa: F401
    import uuid  # noqa: F401
    from topchef_client.generations import Generation  # noqa: F401
    from topchef_client.models import Job, Service  # noqa: F401
    from topchef_client.schemas import Schema  # noqa: F401

#: ``Connection``, and names scripts have imported from this module.
__all__ = ["Connection", "Generation2016", "Generation2017", "Reply", "Transport",
           "canonical_id", "make_retry", "redact_url", "split_credentials"]

log = logging.getLogger(__name__)


def given_connection(connection, connection_options):
    # type: (Any, Dict[str, Any]) -> Connection
    """``connection`` as given to a worker or a submitter, checked; no options beside it."""
    if connection_options:
        raise TypeError("give connection options to the Connection, not with "
                        "connection=: %s" % ", ".join(sorted(connection_options)))
    if not isinstance(connection, Connection):
        raise TypeError("connection must be a topchef_client.Connection, not %s"
                        % options.describe(connection))
    return connection


class Connection(object):
    """A connection to one TopChef server, of either API generation.

    :param address: the server's base URL, e.g. ``http://localhost:5000``.
    :param timeout: seconds, or a ``(connect, read)`` pair, for every request.
    :param retries: attempts more after a transient failure (an ``int``, or
        a urllib3 ``Retry``); ``0`` disables retries.
    :param auth: anything ``requests`` accepts as ``auth``, e.g. a
        ``(user, password)`` pair or ``requests.auth.HTTPDigestAuth``; a
        password in ``address`` works too.
    :param headers: extra headers for every request (e.g. an API gateway token).
    :param verify: TLS verification: ``True`` (the default), ``False``, or a
        CA bundle path.
    :param cert: a client certificate path, or a ``(cert, key)`` pair.
    :param session: a ready ``requests.Session`` to use as it is (its
        adapters, retries and TLS settings are then yours); it is not closed
        by ``close()``.
    :param pool_size: keep-alive connections kept open to the server.
    :param generation: ``"2016"`` or ``"2017"`` to skip detection.
    :raises TypeError, ValueError: an option is not what it must be; the
        message names it.
    """

    def __init__(self, address, timeout=None, retries=None, auth=None, headers=None,
                 verify=True, cert=None, session=None, pool_size=None, generation=None):
        # type: (str, Union[None, float, Tuple[float, float]], Any, Any, Optional[Dict[str, str]], Union[bool, str], Union[None, str, Tuple[str, str]], Any, Optional[int], Union[None, str, int]) -> None
        transport_options = dict(timeout=timeout, auth=auth, headers=headers, verify=verify,
                                 cert=cert, session=session)  # type: Dict[str, Any]
        if retries is not None:
            transport_options["retries"] = retries
        if pool_size is not None:
            transport_options["pool_size"] = pool_size
        if generation is not None:
            generation = str(options.choice("generation", generation, sorted(GENERATIONS)))
        self.transport = Transport(address, **transport_options)
        self.address = self.transport.address
        self.timeout = self.transport.timeout
        self._adapter_lock = threading.Lock()
        self._generation = GENERATIONS[generation](self) if generation else None

    def __repr__(self):
        return "Connection(%r)" % self.address

    def close(self):
        # type: () -> None
        """Close the keep-alive connections (unless the session was given)."""
        self.transport.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    @property
    def request_count(self):
        # type: () -> int
        """HTTP requests sent so far, not counting automatic retries."""
        return self.transport.request_count

    def request(self, method, path, document=NO_BODY, expected=(200,), not_found=NotFound,
                timeout=None, retry=True):
        # type: (str, str, Any, Sequence[int], Type[NotFound], Any, bool) -> Reply
        """Send one request; see ``Transport.send``."""
        return self.transport.send(method, path, document, expected, not_found, timeout,
                                   retry)

    # The server generation (docs/server-api.rst §4)

    @property
    def generation(self):
        # type: () -> str
        """``"2016"`` or ``"2017"``, asked of the server once."""
        return self._adapter.name

    @property
    def _adapter(self):
        return self._adapter_asking(retry=True)

    def _adapter_asking(self, retry):
        """The adapter, asking ``GET /`` first if need be (``retry=False``: in one attempt)."""
        if self._generation is None:
            with self._adapter_lock:
                if self._generation is None:
                    self._choose_adapter(self.request("GET", "/", retry=retry))
        return self._generation

    def _choose_adapter(self, root_reply):
        # type: (Reply) -> Generation
        """Choose the adapter from a reply to ``GET /`` and return it (hold ``_adapter_lock``)."""
        generation = detect(root_reply)
        log.info("%s speaks the %s TopChef API", self.address, generation)
        self._generation = adapter = GENERATIONS[generation](self)
        return adapter

    def server_info(self):
        # type: () -> Dict[str, Any]
        """The server's self-description from ``GET /`` (author, version, ...)."""
        reply = self.request("GET", "/")
        with self._adapter_lock:  # a first GET / also tells the generation
            adapter = self._generation or self._choose_adapter(reply)
        return adapter.server_info(reply.checked(reply.document(), dict))

    def is_alive(self):
        # type: () -> bool
        """Whether the server answers ``GET /`` with 200; never raises."""
        try:
            self.request("GET", "/")
            return True
        except TopChefError:
            return False

    # Services

    def list_services(self, with_state=False):
        # type: (bool) -> List[Service]
        """Every service, as ``Service`` objects without schemas.

        :param with_state: make sure each has its heartbeat state
            (``has_timed_out``, and ``is_available`` where the server has
            it), even where that takes a request per service.
        """
        return self._adapter.list_services(with_state)

    def get_service(self, service_id, retry=True):
        # type: (Union[str, uuid.UUID], bool) -> Service
        """One service, with its schemas.

        :param retry: False for a single attempt (no retries).
        :raises ServiceNotFound: no service has this id.
        """
        service_id = canonical_id(service_id, ServiceNotFound)
        return self._adapter_asking(retry).get_service(service_id, retry)

    def register_service(self, name, description, job_registration_schema,
                         job_result_schema=None, service_timeout=None, timeout=None):
        # type: (str, str, Dict[str, Any], Optional[Dict[str, Any]], Optional[int], Optional[int]) -> Service
        """Create a service and return it.

        :param job_result_schema: defaults to ``{"type": "object"}``.
        :param service_timeout: seconds without heartbeat before the service
            counts as timed out; 2017 servers only (2016 servers fix it at 30).
        :param timeout: the former name of ``service_timeout``.
        """
        service_timeout = options.whole_number(
            "service_timeout", service_timeout if service_timeout is not None else timeout,
            minimum=1, allow_none=True)
        options.text("name", name)
        options.text("description", description)
        for label, schema in (("job_registration_schema", job_registration_schema),
                              ("job_result_schema", job_result_schema)):
            if schema is not None and not isinstance(schema, dict):
                raise ValueError("%s must be a dict (a JSON Schema), not %s"
                                % (label, options.describe(schema)))
        return self._adapter.register_service(
            name, description, job_registration_schema,
            job_result_schema if job_result_schema is not None else {"type": "object"},
            service_timeout)

    def heartbeat(self, service_id, timeout=None, retry=True):
        # type: (Union[str, uuid.UUID], Any, bool) -> None
        """Tell the server the service's worker is alive.

        :param timeout: for this request instead of the connection's.
        :param retry: False for a single attempt.
        :raises ServiceNotFound: no service has this id.
        """
        self.request("PATCH", "/services/%s" % canonical_id(service_id, ServiceNotFound),
                     not_found=ServiceNotFound, timeout=timeout, retry=retry)

    def set_availability(self, service_id, available):
        # type: (Union[str, uuid.UUID], bool) -> Optional[Service]
        """Set a 2017 service's ``is_available`` flag; return the service.

        2016 servers have no such flag: nothing is sent and None is returned.
        """
        service_id = canonical_id(service_id, ServiceNotFound)
        return self._adapter.set_availability(service_id,
                                              bool(available))

    def announce(self, service_id, available, timeout=None, retry=True):
        # type: (Union[str, uuid.UUID], bool, Any, bool) -> None
        """Say that a worker starts (``available``) or stops serving the service.

        On a 2017 server this sets ``is_available``, which is a check-in as
        well. A 2016 server has no such flag: a starting worker checks in,
        and a stopping one has nothing to say.

        :param timeout: for this request instead of the connection's.
        :param retry: False for a single attempt.
        """
        service_id = canonical_id(service_id, ServiceNotFound)
        self._adapter_asking(retry).announce(service_id, bool(available), timeout, retry)

    # Jobs

    def list_jobs(self, service_id):
        # type: (Union[str, uuid.UUID]) -> List[Job]
        """Every job of a service, oldest first (2016: without parameters)."""
        service_id = canonical_id(service_id, ServiceNotFound)
        return self._adapter.list_jobs(service_id)

    def poll_jobs(self, service_id, job_ids):
        # type: (Union[str, uuid.UUID], Iterable[str]) -> List[Job]
        """The current state of some jobs of one service, with results where finished.

        One request lists them all; a server whose lists carry no results
        (2016) is asked once more for each finished job.
        """
        service_id = canonical_id(service_id, ServiceNotFound)
        return self._adapter.poll_jobs(service_id,
                                       [canonical_id(job_id, JobNotFound) for job_id in job_ids])

    def submit_job(self, service_id, parameters):
        # type: (Union[str, uuid.UUID], MappingType[str, Any]) -> Job
        """Submit a job; it is never retried, so never submitted twice.

        The server validates ``parameters``; see ``producer.TopChef.submit``
        for local validation first.

        :raises ValidationError: the server refused the parameters.
        :raises ServiceNotFound: no service has this id.
        """
        if isinstance(parameters, Mapping) and not isinstance(parameters, dict):
            parameters = dict(parameters)
        if not isinstance(parameters, dict):
            raise ValueError("job parameters must be a dict, not %s"
                            % options.describe(parameters))
        service_id = canonical_id(service_id, ServiceNotFound)
        return self._adapter.submit_job(service_id, parameters)

    def get_job(self, job_id, service_id=None):
        # type: (Union[str, uuid.UUID], Optional[str]) -> Job
        """One job, with parameters and result.

        :param service_id: the service the caller knows the job belongs to,
            for the returned ``Job``: no server says it in a job.
        :raises JobNotFound: no job has this id.
        """
        job_id = canonical_id(job_id, JobNotFound)
        return self._adapter.get_job(job_id, service_id)

    def get_queue(self, service_id, retry=True):
        # type: (Union[str, uuid.UUID], bool) -> List[Job]
        """The REGISTERED jobs of a service as the server lists them.

        2016: all of them, without parameters; 2017: at most ten, with them.

        :param retry: False for a single attempt (no retries).
        """
        service_id = canonical_id(service_id, ServiceNotFound)
        return self._adapter_asking(retry).get_queue(service_id, retry)

    def next_job(self, service_id):
        # type: (Union[str, uuid.UUID]) -> Optional[Job]
        """The next REGISTERED job of a service, with parameters, or None."""
        service_id = canonical_id(service_id, ServiceNotFound)
        return self._adapter.next_job(service_id)

    def job_to_run(self, job, recheck=False):
        # type: (Job, bool) -> Optional[Job]
        """A job from the queue, made ready to claim: with its parameters.

        Returns None if the job is gone or no longer REGISTERED. A server
        whose queue has no parameters (2016) is asked for the job, which
        also tells its status; ``recheck`` asks for it in any case.
        """
        canonical_id(job.id, JobNotFound)
        return self._adapter.job_to_run(job, recheck)

    def update_job(self, job, status, result=None, retry=True):
        # type: (Job, str, Optional[Dict[str, Any]], bool) -> Job
        """Set a job's status (and result); return the job as the server has it.

        ``job`` is a ``Job``: 2016 servers need its parameters sent back,
        and the job is fetched first if they are unknown.

        :param retry: False for a single attempt at the update itself.
        """
        canonical_id(job.id, JobNotFound)
        if status not in self._adapter.statuses:
            raise ValueError("a %s server knows the statuses %s, not %s" % (
                self.generation, ", ".join(self._adapter.statuses),
                options.describe(status, with_type=False)))
        if result is not None and not isinstance(result, dict):
            raise ValueError("a job result must be a dict, not %s" % options.describe(result))
        return self._adapter.update_job(job, status, result, retry)

    def fail_job(self, job, error, result_schema=None):
        # type: (Job, Dict[str, Any], Optional[Schema]) -> Job
        """Mark a job as failed, with ``error`` (a dict) in its result.

        2017: status ERROR, and ``{"error": error}`` as results if
        ``result_schema`` (a ``Schema``, when known) allows it. 2016, which
        has no ERROR status: status COMPLETED with ``{"error": error}`` as
        the result, so the job is not run again and its failure is on record.
        """
        canonical_id(job.id, JobNotFound)
        return self._adapter.fail_job(job, {ERROR_KEY: error}, result_schema)

