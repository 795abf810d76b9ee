"""``Client``: a worker that runs the jobs of one TopChef service.

Subclass it, implement ``run``, and start it::

    class AddOne(Client):
        def run(self, parameters):
            return {"value": parameters["value"] + 1}

    AddOne("http://localhost:5000", service_id).serve_forever()

``start()`` launches a heartbeat thread, which tells the server the service
is alive, and processing threads, which poll the service's queue and run its
jobs. Neither dies of an error: each is logged, the thread backs off, and it
carries on when the server is back.
"""
import abc
import atexit
import logging
import signal
import sys
import threading
import traceback
import weakref

import six

from topchef_client import defaults
from topchef_client.api import Connection, canonical_id
from topchef_client.compat import monotonic
from topchef_client.exceptions import (
    BadRequest, NotFound, ProcessingError, ServiceNotFound, TopChefError, ValidationError)
from topchef_client.models import COMPLETED, REGISTERED, WORKING
from topchef_client.polling import Backoff, JobSource
from topchef_client.schemas import Schema

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Dict, List, Optional, Set, Union  # noqa: F401
    import uuid  # noqa: F401
    from topchef_client.models import Job, Service  # noqa: F401


log = logging.getLogger(__name__)

#: After a validation failure the schemas are fetched again, at most this often.
SCHEMA_REFRESH_INTERVAL = 10.0
#: The longest pause between heartbeats, whatever timeout a service states.
MAX_HEARTBEAT_INTERVAL = 3600.0
#: Keyword arguments of ``Client`` that configure its ``Connection``.
CONNECTION_OPTIONS = ("request_timeout", "retries", "auth", "headers", "verify", "cert",
                      "session", "pool_size", "generation")


class WorkerStats(object):
    """Counters of a worker, safe to read from any thread."""

    names = ("jobs_completed", "jobs_failed", "jobs_invalid", "heartbeats_sent",
             "heartbeats_failed", "polls", "polls_failed")

    def __init__(self):
        self._lock = threading.Lock()
        for name in self.names:
            setattr(self, name, 0)

    def add(self, name):
        # type: (str) -> None
        with self._lock:
            setattr(self, name, getattr(self, name) + 1)

    def as_dict(self):
        # type: () -> Dict[str, int]
        with self._lock:
            return dict((name, getattr(self, name)) for name in self.names)

    def __repr__(self):
        return "WorkerStats(%s)" % ", ".join(
            "%s=%d" % (name, value) for name, value in sorted(self.as_dict().items()))


def error_report(error, with_traceback=True):
    # type: (BaseException, bool) -> Dict[str, str]
    """What a failed job's result says of its failure (call it while handling ``error``)."""
    report = {"type": type(error).__name__, "message": six.text_type(error)}
    if with_traceback:
        report["traceback"] = "".join(traceback.format_exception(*sys.exc_info()))
    return report


def connection_for(address, options):
    # type: (str, Dict[str, Any]) -> Connection
    """A ``Connection`` from the ``Client`` keyword arguments that configure one."""
    options = dict(options)
    if "request_timeout" in options:
        options["timeout"] = options.pop("request_timeout")
    return Connection(address, **options)


@six.add_metaclass(abc.ABCMeta)
class Client(object):
    """A worker for one TopChef service; subclass it and implement ``run``.

    :param address: the TopChef server's base URL.
    :param service_id: the id of the service whose jobs to run.
    :param timeout: the original client's name for ``heartbeat_interval``.
    :param heartbeat_interval: seconds between heartbeats; by default a
        third of the service's timeout (30 s on 2016 servers).
    :param poll_interval: seconds to wait after finding the queue empty; the
        wait doubles while it stays empty, up to ``max_poll_interval``.
    :param max_poll_interval: the longest wait between polls of an empty queue.
    :param threads: processing threads; ``run`` must then be thread-safe.
    :param exit_grace_period: at interpreter exit, seconds a running job
        may still finish before it is put back in the queue.
    :param failure_backoff: first pause after a failure, doubling up to
        ``max_failure_backoff``.
    :param max_failure_backoff: the longest pause after repeated failures.
    :param connection: an ``api.Connection`` to use instead of a new one.
    :param connection_options: for the new ``Connection``: ``request_timeout``
        (its ``timeout``), ``retries``, ``auth``, ``headers``, ``verify``,
        ``cert``, ``session``, ``pool_size``, ``generation``.
    """

    def __init__(self, address, service_id, timeout=None, heartbeat_interval=None,
                 poll_interval=defaults.DEFAULT_POLL_INTERVAL,
                 max_poll_interval=defaults.DEFAULT_MAX_POLL_INTERVAL, threads=1,
                 exit_grace_period=defaults.DEFAULT_EXIT_GRACE_PERIOD,
                 failure_backoff=defaults.DEFAULT_FAILURE_BACKOFF,
                 max_failure_backoff=defaults.DEFAULT_MAX_FAILURE_BACKOFF,
                 connection=None, **connection_options):
        # type: (str, Union[str, uuid.UUID], Optional[float], Optional[float], float, float, int, float, float, float, Optional[Connection], **Any) -> None
        unknown = set(connection_options) - set(CONNECTION_OPTIONS)
        if unknown:
            raise TypeError("%s() got unexpected keyword arguments: %s" % (
                type(self).__name__, ", ".join(sorted(unknown))))
        if int(threads) < 1:
            raise ValueError("threads must be at least 1, not %r" % (threads,))
        self.id = canonical_id(service_id, ServiceNotFound)
        if connection is None:
            connection_options.setdefault(
                "pool_size", max(defaults.DEFAULT_POOL_SIZE, int(threads) + 2))
            connection = connection_for(address, connection_options)
        elif connection_options:
            raise TypeError("give connection options to the Connection, not with "
                            "connection=: %s" % ", ".join(sorted(connection_options)))
        self.connection = connection
        self.address = connection.address
        interval = heartbeat_interval if heartbeat_interval is not None else timeout
        self._heartbeat_interval = float(interval) if interval is not None else None
        self.threads = int(threads)
        self.exit_grace_period = float(exit_grace_period)
        self.failure_backoff = float(failure_backoff)
        self.max_failure_backoff = float(max_failure_backoff)
        self.stats = WorkerStats()
        self.last_error = None
        self._failing = set()  # type: Set[str]  # the loops whose last attempt failed

        self._service = None  # type: Optional[Service]
        self._parameter_schema = None  # type: Any
        self._result_schema = None  # type: Any
        self._schemas_from_server = True
        self._schemas_fetched_at = None
        self._service_lock = threading.Lock()

        # No jitter while idle: a jittered pause at the cap would poll more
        # often than once per max_poll_interval.
        self._jobs = JobSource(self._poll_queue,
                               idle=Backoff(poll_interval, max_poll_interval, jitter=False),
                               failing=Backoff(failure_backoff, max_failure_backoff))
        self._abandoning = threading.Event()  # stop_now(): give running jobs up
        self._phase_lock = threading.Lock()
        self._reporting = set()  # type: Set[str]  # ids of jobs whose outcome is being written
        self._heartbeat_stop = threading.Event()
        self._finish_lock = threading.Lock()
        self._stopped = threading.Event()
        self._stopped.set()
        self.heartbeat_thread = None
        self.processing_threads = []  # type: List[threading.Thread]

    def __repr__(self):
        return "<%s service=%s at %s>" % (type(self).__name__, self.id, self.address)

    @abc.abstractmethod
    def run(self, parameters):
        # type: (Dict[str, Any]) -> Dict[str, Any]
        """Run one job: take its parameters (a dict) and return its result (a dict).

        ``parameters`` already satisfies the service's job registration
        schema; the result must satisfy its job result schema. Raising marks
        the job as failed, with the exception in its result.
        """

    # Registering a service

    @classmethod
    def register_service(cls, address, name, description, job_registration_schema,
                         job_result_schema=None, service_timeout=None, **options):
        # type: (str, str, str, Dict[str, Any], Optional[Dict[str, Any]], Optional[int], **Any) -> Any
        """Register a new service and return a worker bound to it.

        :param job_result_schema: defaults to ``{"type": "object"}``.
        :param service_timeout: the service's timeout in seconds (2017 servers).
        :param options: for the constructor (``threads``, ``auth``, ...).
        """
        connection = options.pop("connection", None) or connection_for(address, dict(
            (key, options.pop(key)) for key in list(options) if key in CONNECTION_OPTIONS))
        if job_result_schema is None:
            job_result_schema = {"type": "object"}
        # Refuse a broken schema before the service exists, not after.
        parameter_schema = Schema(job_registration_schema, "parameters")
        result_schema = Schema(job_result_schema, "result")
        service = connection.register_service(name, description, job_registration_schema,
                                              job_result_schema, service_timeout)
        log.info("registered service %s (%s)", service.id, name)
        worker = cls(address, service.id, connection=connection, **options)
        # Validate against what was asked for: a 2016 server keeps only part
        # of it (spec section 2.4).
        worker._use_service(service, parameter_schema, result_schema, from_server=False)
        return worker

    @classmethod
    def new_service(cls, address, name, description, job_registration_schema,
                    job_result_schema=None, **options):
        # type: (str, str, str, Dict[str, Any], Optional[Dict[str, Any]], **Any) -> Any
        """The original client's name for ``register_service``."""
        return cls.register_service(address, name, description, job_registration_schema,
                                    job_result_schema, **options)

    # Names the original client offered, and plain accessors

    @property
    def service_id(self):
        # type: () -> str
        """The id of the worker's service (also ``id``, the original name)."""
        return self.id

    @property
    def timeout(self):
        # type: () -> float
        """The original client's name for ``heartbeat_interval``."""
        return self.heartbeat_interval

    @property
    def heartbeat_interval(self):
        # type: () -> float
        """Seconds between heartbeats: unless set, a third of the service's timeout (<= 1 h)."""
        if self._heartbeat_interval is not None:
            return self._heartbeat_interval
        stated = self._service.timeout if self._service is not None else None  # type: Any
        try:
            timeout = float(stated)  # type: Optional[float]
        except (TypeError, ValueError, OverflowError):
            timeout = None
        # The server may state anything: a NaN or negative timeout would make
        # the heartbeat spin, an infinite one would kill it (Event.wait).
        if timeout is None or not 0 < timeout < float("inf"):
            timeout = defaults.DEFAULT_SERVICE_TIMEOUT
        return min(timeout / defaults.HEARTBEATS_PER_TIMEOUT, MAX_HEARTBEAT_INTERVAL)

    @property
    def job_registration_schema(self):
        # type: () -> Dict[str, Any]
        """The schema every job's parameters satisfy (fetched once)."""
        self._ensure_service()
        return self._parameter_schema.schema

    @property
    def job_result_schema(self):
        # type: () -> Dict[str, Any]
        """The schema every result must satisfy (fetched once)."""
        self._ensure_service()
        return self._result_schema.schema

    @property
    def is_server_alive(self):
        # type: () -> bool
        """Whether the server answers at all; never raises."""
        return self.connection.is_alive()

    @property
    def polling_thread(self):
        # type: () -> Optional[threading.Thread]
        """The original client's name for ``heartbeat_thread``."""
        return self.heartbeat_thread

    @property
    def processing_thread(self):
        # type: () -> Optional[threading.Thread]
        """The first processing thread (the original client had one)."""
        return self.processing_threads[0] if self.processing_threads else None

    def validate_schema(self, instance, schema):
        # type: (Any, Dict[str, Any]) -> None
        """Raise ``ValidationError`` if ``instance`` breaks ``schema`` (checked locally)."""
        Schema(schema).validate(instance)

    def run_iteration(self):
        # type: () -> Optional[Job]
        """Run one queued job, as the original client did; return it or None.

        :raises ProcessingError: the job failed (and is reported as failed).
        """
        job = self.process_one()
        if job is not None and job.is_failed:
            raise ProcessingError("job %s failed: %s" % (
                job.id, (job.error or {}).get("message", job.status)))
        return job

    # Health

    @property
    def healthy(self):
        # type: () -> bool
        """False while the last attempt of polling, of the heartbeat or of a job update failed."""
        return not self._failing

    @property
    def is_running(self):
        # type: () -> bool
        """Whether the worker has been started and has not stopped yet."""
        return not self._stopped.is_set()

    def _succeeded(self, loop):
        self._failing.discard(loop)

    def _failed(self, loop, error, job=None):
        """Record and log a failure (call it while handling ``error``)."""
        self._failing.add(loop)
        self.last_error = error
        where = " for job %s" % job.id if job is not None else ""
        if isinstance(error, TopChefError):
            log.warning("%s failed%s: %s", loop, where, error)
        else:
            log.error("%s failed%s", loop, where, exc_info=True)

    # Starting and stopping

    def start(self, should_poll=True, handle_sigterm=True, burst=False):
        # type: (bool, bool, bool) -> Client
        """Start the heartbeat thread and the processing threads; return at once.

        :param should_poll: start the heartbeat thread (the original name).
        :param handle_sigterm: when called from the main thread of a program
            that leaves SIGTERM at its default, turn SIGTERM into ``SystemExit``
            so that the exit hook finishes or requeues the running job.
        :param burst: stop by itself once the queue has been found empty.
        """
        if self.is_running:
            raise RuntimeError("%r is already running" % self)
        self._abandoning.clear()
        self._heartbeat_stop.clear()
        self._stopped.clear()
        self._jobs.reopen(burst)
        _running_workers.add(self)
        if handle_sigterm:
            _exit_on_sigterm()
        short_id = self.id[:8]
        self.heartbeat_thread = None
        if should_poll:
            self.heartbeat_thread = _daemon(self._heartbeat_loop,
                                            "topchef-heartbeat-%s" % short_id)
        self.processing_threads = [
            _daemon(self._processing_loop, "topchef-worker-%s-%d" % (short_id, number))
            for number in range(1, self.threads + 1)]
        log.info("worker for service %s started with %d processing thread(s)",
                 self.id, self.threads)
        return self

    def stop(self, timeout=None):
        # type: (Optional[float]) -> bool
        """Stop gracefully; return whether it has stopped within ``timeout`` seconds.

        No new job is taken; running jobs finish and are reported while the
        heartbeat goes on; then the heartbeat stops and (2017) the service is
        marked unavailable. Safe to call from any thread, more than once;
        from inside ``run`` it only asks, since the job must finish first.
        """
        self._jobs.close()
        return self.join(timeout)

    def stop_now(self):
        # type: () -> None
        """Stop at once: running jobs are put back in the queue as REGISTERED.

        ``run`` calls already under way cannot be interrupted; their results
        are discarded.
        """
        with self._phase_lock:
            self._abandoning.set()
            # A job whose result is being written is left to finish: putting
            # it back now could undo its report and run it again.
            abandoned = [job for job in self._jobs.in_flight()
                         if job.id not in self._reporting]
        self._jobs.close()
        for job in abandoned:
            self._requeue(job)
        self._finish(monotonic() + 1.0)

    def join(self, timeout=None):
        # type: (Optional[float]) -> bool
        """Wait until the worker has stopped; return whether it has."""
        if self._stopped.is_set():
            return True
        deadline = None if timeout is None else monotonic() + timeout
        current = threading.current_thread()
        for thread in self.processing_threads:
            if thread is current or not _join(thread, deadline):
                return False
        if self.processing_threads:
            self._finish(deadline)
        return self._stopped.is_set()

    def _finish(self, deadline):
        """When processing is over: stop the heartbeat, and say goodbye (2017)."""
        self._heartbeat_stop.set()
        if self.heartbeat_thread is not None and not _join(self.heartbeat_thread, deadline):
            return
        with self._finish_lock:
            if self._stopped.is_set():
                return
            if self.heartbeat_thread is not None:
                self._announce(False)
            _running_workers.discard(self)
            self._stopped.set()
        log.info("worker for service %s stopped: %s", self.id, self.stats)

    def serve_forever(self, burst=False):
        # type: (bool) -> WorkerStats
        """Start (unless started) and block until the worker has stopped.

        In the main thread, the first SIGINT or SIGTERM stops gracefully and
        the second stops at once (``stop_now``). With ``burst=True`` it
        returns once the queue is empty and every job taken is finished.
        Returns the ``stats``.
        """
        if not self.is_running:
            self.start(handle_sigterm=False, burst=burst)
        # The handler itself refuses new jobs: the loop below may notice the
        # signal only a slice later, and a job taken meanwhile would run.
        signals = _StopSignals(on_first=lambda: self._jobs.close(wake=False))
        try:
            # Short slices: Python 2.7 runs signal handlers only between them.
            while not self.join(0.2):
                if signals.count == 1:
                    self._jobs.close()
                elif signals.count > 1:
                    self.stop_now()
                    break
        finally:
            signals.restore()
        return self.stats

    def burst(self):
        # type: () -> WorkerStats
        """Run every queued job, then stop; return the stats."""
        return self.serve_forever(burst=True)

    # The service and its schemas

    def _ensure_service(self):
        """Fetch the service (its timeout and schemas) once; later calls are free."""
        if self._service is None:
            with self._service_lock:
                if self._service is None:
                    self._fetch_service()
        return self._service

    def _fetch_service(self):
        service = self.connection.get_service(self.id)
        self._use_service(service, Schema(service.job_registration_schema or {}, "parameters"),
                          Schema(service.job_result_schema or {}, "result"), from_server=True)

    def _use_service(self, service, parameter_schema, result_schema, from_server):
        self._parameter_schema = parameter_schema
        self._result_schema = result_schema
        self._schemas_from_server = from_server
        self._schemas_fetched_at = monotonic()
        self._service = service

    def _validate(self, which, document):
        """Validate with the cached schema; if it fails, fetch the schemas again once."""
        try:
            getattr(self, which).validate(document)
        except ValidationError:
            if (not self._schemas_from_server or
                    monotonic() - self._schemas_fetched_at < SCHEMA_REFRESH_INTERVAL):
                raise
            with self._service_lock:
                self._fetch_service()
            getattr(self, which).validate(document)

    # The heartbeat thread

    def _heartbeat_loop(self):
        backoff = Backoff(self.failure_backoff, self.max_failure_backoff)
        announced = False
        pause = 0
        while not self._heartbeat_stop.wait(pause):
            try:
                self._ensure_service()
                if announced:
                    self.connection.heartbeat(self.id, timeout=self._heartbeat_timeout())
                else:
                    self._announce(True)
                    announced = True
                self.stats.add("heartbeats_sent")
                self._succeeded("heartbeat")
                backoff.reset()
                pause = self.heartbeat_interval
            except Exception as error:
                self.stats.add("heartbeats_failed")
                self._failed("heartbeat", error)
                pause = min(backoff.next(), self.heartbeat_interval)

    def _heartbeat_timeout(self):
        """A hung heartbeat must not outlast its own interval."""
        timeout = self.connection.timeout
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        return (connect, min(read or self.heartbeat_interval, self.heartbeat_interval))

    def _announce(self, available):
        """Check in and, on 2017 servers, set the service's ``is_available``."""
        try:
            if self.connection.set_availability(self.id, available) is None and available:
                self.connection.heartbeat(self.id)  # 2016: no flag, only a check-in
        except TopChefError as error:
            if available:
                raise
            log.warning("could not mark service %s unavailable: %s", self.id, error)

    # The processing threads

    def _processing_loop(self):
        backoff = Backoff(self.failure_backoff, self.max_failure_backoff)
        while True:
            try:
                job = self._jobs.take(wait=True)
            except Exception as error:
                # JobSource pauses before the next poll.
                self.stats.add("polls_failed")
                self._failed("polling", error)
                continue
            if job is None:
                if self._jobs.closed or self._jobs.burst_done:
                    return
                continue
            try:
                self._process(job)
                backoff.reset()
            except Exception as error:
                # A job's own failures are reported by _run_job: this is the
                # thread's last line of defence.
                self._failed("processing", error, job)
                self._abandoning.wait(backoff.next())

    def _poll_queue(self):
        self._ensure_service()
        self.stats.add("polls")
        page = self.connection.get_queue(self.id)
        self._succeeded("polling")
        return page

    def process_one(self):
        # type: () -> Optional[Job]
        """Run one queued job in the calling thread; return it, or None if none.

        The returned ``Job`` is as the server has it afterwards: check
        ``is_complete`` or ``is_failed``.
        """
        if not self.is_running and self._jobs.closed:
            self._jobs.reopen()  # after stop(): serve this caller again
        job = self._jobs.take(wait=False)
        return None if job is None else self._process(job)

    def _process(self, job):
        try:
            return self._run_job(job)
        finally:
            with self._phase_lock:
                self._reporting.discard(job.id)
            self._jobs.done(job)

    def _may_report(self, job):
        """Whether to write the job's outcome: not once stop_now() has put it back."""
        with self._phase_lock:
            if self._abandoning.is_set():
                return False
            self._reporting.add(job.id)
            return True

    def _run_job(self, job):
        """Validate, claim, run and report one job; a job's failure is reported, not raised."""
        if job.parameters is None:  # 2016 queues carry no parameters
            try:
                job = self._retrying(lambda: self.connection.get_job(job.id), "fetch", job)
            except NotFound:
                return None
            if job.status != REGISTERED:
                log.info("job %s was taken by another worker (now %s)", job.id, job.status)
                return None
        try:
            self._validate("_parameter_schema", job.parameters)
        except ValidationError as invalid:
            self.stats.add("jobs_invalid")
            self.last_error = invalid
            log.error("job %s has invalid parameters: %s", job.id, invalid)
            return self._report_failure(job, invalid, with_traceback=False)
        try:
            job = self._retrying(lambda: self.connection.update_job(job, WORKING), "claim", job)
        except NotFound:
            return None
        if self._abandoning.is_set():
            # stop_now() may have put the job back before this claim landed.
            self._requeue(job)
            return None
        started = monotonic()
        try:
            result = self.run(job.parameters)
            if not isinstance(result, dict):
                raise ProcessingError("run() returned %s, not a dict" % type(result).__name__)
            try:
                self._validate("_result_schema", result)
            except ValidationError as invalid:
                raise ProcessingError("run() returned a result that breaks the "
                                      "job_result_schema: %s" % invalid)
        except (Exception, SystemExit, KeyboardInterrupt) as error:
            if not self._may_report(job):
                return None  # stop_now() has put it back in the queue
            self.last_error = error
            log.error("job %s failed after %.3f s", job.id, monotonic() - started,
                      exc_info=True)
            return self._report_failure(job, error)
        if not self._may_report(job):
            return None
        try:
            finished = self._write_outcome(
                job, lambda: self.connection.update_job(job, COMPLETED, result), "report")
        except (ValidationError, BadRequest) as refused:
            # The server's own draft-4 check disagrees with the local one.
            return self._report_failure(job, refused, with_traceback=False)
        if finished is not None:
            self.stats.add("jobs_completed")
            log.info("job %s completed in %.3f s", job.id, monotonic() - started)
        return finished

    def _report_failure(self, job, error, with_traceback=True):
        report = error_report(error, with_traceback)
        failed = self._write_outcome(
            job, lambda: self.connection.fail_job(job, report, self._result_schema),
            "report the failure of")
        if failed is not None:
            self.stats.add("jobs_failed")
        return failed

    def _write_outcome(self, job, operation, what):
        """Write a job's outcome, retrying; None if the job is gone or given back."""
        try:
            return self._retrying(operation, what, job)
        except NotFound:
            return None
        except TopChefError:
            if not self._abandoning.is_set():
                raise
            # stop_now() while the server was unreachable: give the job back.
            self._requeue(job)
            return None

    def _retrying(self, operation, what, job):
        """Run ``operation`` until it works: the server may be restarting.

        Gives up when told to stop at once, and on answers that another
        attempt cannot change (404, another 4xx, an invalid document).
        """
        backoff = Backoff(self.failure_backoff, self.max_failure_backoff)
        while True:
            try:
                outcome = operation()
                self._succeeded("processing")
                return outcome
            except NotFound as error:
                log.warning("cannot %s job %s: %s", what, job.id, error)
                raise
            except (ValidationError, BadRequest):
                raise
            except TopChefError as error:
                self._failed("processing", error, job)
                if self._abandoning.wait(backoff.next()):
                    raise

    def _requeue(self, job):
        """Put a job this process took back in the queue."""
        try:
            self.connection.update_job(job, REGISTERED)
            log.warning("job %s put back in the queue", job.id)
        except Exception as error:
            log.error("job %s could not be put back in the queue and stays WORKING: %s",
                      job.id, error)

    # Exit

    def _exit(self):
        """At interpreter exit: let running jobs finish for a while, then requeue them."""
        if not self.is_running:
            return
        self._jobs.close()
        busy = bool(self._jobs.in_flight())
        if busy:
            log.warning("exiting with jobs running; waiting up to %.1f s for them",
                        self.exit_grace_period)
        if not self.join(self.exit_grace_period if busy else 1.0):
            self.stop_now()


_running_workers = weakref.WeakSet()  # type: weakref.WeakSet[Client]


def _run_exit_hooks():
    for worker in list(_running_workers):
        try:
            worker._exit()
        except Exception:
            log.exception("exit hook of %r failed", worker)


atexit.register(_run_exit_hooks)


def _daemon(target, name):
    thread = threading.Thread(target=target, name=name)
    thread.daemon = True
    thread.start()
    return thread


def _join(thread, deadline):
    """Join within a shared deadline (None: for ever); return whether it ended."""
    while thread.is_alive():
        remaining = None if deadline is None else deadline - monotonic()
        if remaining is not None and remaining <= 0:
            return False
        # Short slices keep the main thread responsive to signals on Python 2.7.
        thread.join(0.2 if remaining is None else min(remaining, 0.2))
    return True


def _in_main_thread():
    return threading.current_thread().name == "MainThread"


def _exit_on_sigterm():
    """SIGTERM -> SystemExit, so that exit hooks run (only if nobody handles it)."""
    if _in_main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        def exit_on_sigterm(signum, frame):
            raise SystemExit(128 + signum)
        signal.signal(signal.SIGTERM, exit_on_sigterm)


class _StopSignals(object):
    """Counts SIGINT and SIGTERM while installed (main thread only)."""

    def __init__(self, on_first=None):
        self.count = 0
        self._on_first = on_first
        self._previous = {}
        if _in_main_thread():
            for signum in (signal.SIGINT, signal.SIGTERM):
                self._previous[signum] = signal.signal(signum, self._received)

    def _received(self, signum, frame):
        self.count += 1
        if self.count == 1:
            if self._on_first is not None:
                self._on_first()
            log.warning("signal %d: stopping after the running job(s); send it again "
                        "to stop at once", signum)
        else:
            log.warning("signal %d again: stopping now", signum)

    def restore(self):
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
