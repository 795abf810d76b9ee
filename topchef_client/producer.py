"""The submitter's side: register services, submit jobs and wait for results.

::

    from topchef_client import TopChef

    with TopChef("http://localhost:5000") as topchef:
        job = topchef.submit(service_id, {"value": 3})
        print(topchef.wait(job, timeout=60))
"""
import logging
import time

from six.moves.collections_abc import Mapping

from topchef_client import defaults, options
from topchef_client.api import Connection, given_connection
from topchef_client.compat import monotonic
from topchef_client.exceptions import JobFailed, JobNotFound, JobWaitTimeout, ServiceNotFound
from topchef_client.models import REGISTERED, Job, Service, canonical_id
from topchef_client.schemas import Schema

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Callable, Dict, Iterable, List, Optional, TypeVar, Union  # noqa: F401
    from typing import Mapping as MappingType  # noqa: F401
    T = TypeVar("T", bound="TopChef")


log = logging.getLogger(__name__)


def _id(item):
    """The id of a ``Service``/``Job`` or of an id given as such."""
    return item.id if isinstance(item, (Service, Job)) else item


def _job_key(job):
    """The canonical id of a job, as the server spells it in answers."""
    return canonical_id(_id(job), JobNotFound)


class TopChef(object):
    """A TopChef server, from the point of view of whoever submits jobs.

    :param address: the server's base URL; or give ``connection``.
    :param connection: a ready ``api.Connection`` to share.
    :param options: anything else is passed to ``Connection`` (``timeout``,
        ``retries``, ``auth``, ``verify``, ...).
    """

    def __init__(self, address=None, connection=None, **connection_options):
        # type: (Optional[str], Optional[Connection], **Any) -> None
        if connection is None:
            if address is None:
                raise ValueError("TopChef() needs the server's address (a URL such as "
                                 "http://localhost:5000) or connection=")
            connection = Connection(address, **connection_options)
        else:
            connection = given_connection(connection, connection_options)
        self.connection = connection
        self._parameter_schemas = {}  # type: Dict[str, Schema]

    def __repr__(self):
        return "TopChef(%r)" % self.connection.address

    def close(self):
        # type: () -> None
        self.connection.close()

    def __enter__(self):
        # type: (T) -> T
        return self

    def __exit__(self, *exc_info):
        self.close()

    # Services

    def services(self):
        # type: () -> List[Service]
        """Every service on the server (without schemas)."""
        return self.connection.list_services()

    def service(self, service):
        # type: (Union[Service, str]) -> Service
        """One service, with its schemas.

        :raises ServiceNotFound: no service has this id.
        """
        return self.connection.get_service(_id(service))

    def register_service(self, name, description, job_registration_schema,
                         job_result_schema=None, service_timeout=None, timeout=None):
        # type: (str, str, Dict[str, Any], Optional[Dict[str, Any]], Optional[int], Optional[int]) -> Service
        """Register a service and return it (a ``Service``).

        :param job_result_schema: defaults to ``{"type": "object"}``.
        :param service_timeout: seconds without heartbeat before the service
            counts as timed out (2017 servers; 2016 servers fix it at 30).
        :param timeout: the former name of ``service_timeout``.
        """
        # Compiled first: a schema that is not JSON Schema fails before a
        # service is registered with it.
        schema = Schema(job_registration_schema, "parameters")
        service = self.connection.register_service(
            name, description, job_registration_schema, job_result_schema,
            service_timeout if service_timeout is not None else timeout)
        # What was asked for, not what a 2016 server kept of it (docs/server-api.rst
        # quirk trimmed-schemas).
        self._parameter_schemas[service.id] = schema
        return service

    # Jobs

    def submit(self, service, parameters, validate=True):
        # type: (Union[Service, str], MappingType[str, Any], bool) -> Job
        """Submit a job and return it (a ``Job``).

        The parameters are checked against the service's registration schema
        before anything is sent (the schema is fetched once per service).

        :raises ValidationError: the parameters break the schema; its
            ``path`` names the failing field.
        :raises ServiceNotFound: no service has this id.
        """
        service_id = _id(service)
        if isinstance(parameters, Mapping) and not isinstance(parameters, dict):
            parameters = dict(parameters)
        if validate:
            self._parameter_schema(service_id).validate(parameters)
        job = self.connection.submit_job(service_id, parameters)
        log.info("submitted job %s to service %s", job.id, service_id)
        return job

    def _parameter_schema(self, service_id):
        # By the canonical id: a service named in any UUID form is fetched once.
        service_id = canonical_id(service_id, ServiceNotFound)
        schema = self._parameter_schemas.get(service_id)
        if schema is None:
            service = self.connection.get_service(service_id)
            schema = Schema(service.job_registration_schema or {}, "parameters")
            self._parameter_schemas[service_id] = schema
        return schema

    def job(self, job):
        # type: (Union[Job, str]) -> Job
        """One job, as the server has it now.

        :raises JobNotFound: no job has this id.
        """
        return self.connection.get_job(_id(job))

    def jobs(self, service):
        # type: (Union[Service, str]) -> List[Job]
        """Every job of a service, oldest first."""
        return self.connection.list_jobs(_id(service))

    def wait(self, job, timeout=defaults.DEFAULT_WAIT_TIMEOUT,
             poll_interval=defaults.DEFAULT_WAIT_POLL_INTERVAL,
             max_poll_interval=defaults.DEFAULT_MAX_WAIT_POLL_INTERVAL):
        # type: (Union[Job, str], Optional[float], float, float) -> Any
        """Wait for a job to finish and return its result.

        Polls gently: ``poll_interval`` at first, growing by half each time
        up to ``max_poll_interval``.

        :param timeout: seconds to wait; None waits for ever.
        :raises JobFailed: the job ended in error (``.job`` holds it).
        :raises JobWaitTimeout: it did not finish in time; the message gives
            its id and last status.
        """
        return self.wait_all([job], timeout, poll_interval, max_poll_interval,
                             raise_on_failure=True)[0].result

    def wait_all(self, jobs, timeout=defaults.DEFAULT_WAIT_TIMEOUT,
                 poll_interval=defaults.DEFAULT_WAIT_POLL_INTERVAL,
                 max_poll_interval=defaults.DEFAULT_MAX_WAIT_POLL_INTERVAL,
                 raise_on_failure=False, progress=None):
        # type: (Iterable[Union[Job, str]], Optional[float], float, float, bool, Optional[Callable[[int], Any]]) -> List[Job]
        """Wait for many jobs; return them finished, in the order given.

        One request per service per poll lists the status of all its jobs
        (jobs whose service is unknown are asked for one by one). A finished
        job's result comes with that list on 2017 servers, and from one more
        request per job on 2016 servers.

        :param raise_on_failure: raise ``JobFailed`` for the first job that
            ended in error instead of returning it.
        :param progress: a callable, called with the number of finished jobs
            each time that number grows.
        :raises JobWaitTimeout: not all finished within ``timeout`` seconds.
        """
        timeout = options.seconds("timeout", timeout, allow_zero=True, allow_none=True)
        interval = options.seconds("poll_interval", poll_interval)
        max_poll_interval = options.seconds("max_poll_interval", max_poll_interval)
        if progress is not None and not callable(progress):
            raise TypeError("progress must be a callable or None, not %s"
                            % options.describe(progress))
        jobs = list(jobs)
        pending = dict((_job_key(job), job if isinstance(job, Job) else Job(_job_key(job)))
                       for job in jobs)
        finished = {}
        reported = 0
        deadline = None if timeout is None else monotonic() + timeout
        while True:
            for job in self._poll(list(pending.values())):
                if job.is_finished:
                    if raise_on_failure and job.is_failed:
                        raise JobFailed(_failure_message(job), job)
                    finished[job.id] = job
                    pending.pop(job.id, None)
                else:
                    pending[job.id] = job
            if progress is not None and len(finished) > reported:
                reported = len(finished)
                progress(reported)
            if not pending:
                return [finished[_job_key(job)] for job in jobs]
            remaining = None if deadline is None else deadline - monotonic()
            if remaining is not None and remaining <= 0:
                raise JobWaitTimeout(self._timeout_message(list(pending.values()), timeout),
                                     list(pending.values()))
            time.sleep(interval if remaining is None else min(interval, remaining))
            interval = min(interval * 1.5, max_poll_interval)

    def _poll(self, jobs):
        """The current state of ``jobs``, with results for the finished ones."""
        by_service = {}
        for job in jobs:
            by_service.setdefault(job.service_id, []).append(job)
        current = []
        for service_id, group in sorted(by_service.items(), key=lambda item: str(item[0])):
            if service_id is None or len(group) == 1:
                current.extend(self.connection.get_job(job.id, service_id) for job in group)
                continue
            current.extend(self.connection.poll_jobs(service_id, [job.id for job in group]))
        return current

    def _timeout_message(self, jobs, timeout):
        described = ", ".join("%s (last status %s)" % (job.id, job.status) for job in jobs[:5])
        if len(jobs) > 5:
            described += " and %d more" % (len(jobs) - 5)
        message = "%d job(s) did not finish within %s s: %s" % (len(jobs), timeout, described)
        if all(job.status == REGISTERED for job in jobs) and jobs[0].service_id:
            message += "; none was picked up: is a worker running for service %s?" % (
                jobs[0].service_id)
        return message


def _failure_message(job):
    error = job.error
    if error:
        return "job %s failed: %s: %s" % (job.id, error.get("type"), error.get("message"))
    return "job %s ended with status %s" % (job.id, job.status)
