"""``topchef-worker``: run a ``Client`` subclass for one service until told to stop.

In order, and before any job is run:

1. import the class, and check that it is a concrete ``Client`` (it has
   ``run``), before anything is registered;
2. ask the server once, with no retries, whether it answers (``--register``)
   or has the service (``--service-id``: the worker's own first look at it,
   so that ``start()`` asks no more): an error is one line and exit 1; a
   server that accepts the connection and does not answer is said to be
   awaited within seconds;
3. register the service (``--register``) or start the worker bound to it;
4. serve: the first SIGINT or SIGTERM stops gracefully, the second at once;
   ``--burst``, ``--max-jobs`` and ``--max-idle-time`` stop it by themselves.

Once running, the worker keeps the library's retries: it rides out a server
that restarts.
"""
import importlib
import inspect
import logging
import os
import sys
import threading

from topchef_client.cli.commands import read_json, server_address
from topchef_client.cli.errors import (
    EXIT_OK, EXIT_SIGNAL_BASE, CommandFailed, UsageError)
from topchef_client.compat import monotonic
from topchef_client.exceptions import (
    NetworkError, ResponseTimeout, ServiceNotFound, TopChefError)
from topchef_client.health import WorkerStats
from topchef_client.lifecycle import RUNNING, STARTING
from topchef_client.models import canonical_id
from topchef_client.signals import block_until_stopped

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Callable, Dict, Optional, Tuple, Type  # noqa: F401

log = logging.getLogger("topchef_client.cli")

#: Seconds without an answer before the first check says what it waits for
#: (or half the read timeout, if that is shorter).
PATIENCE = 1.0
#: How often the main thread, waiting for that first answer, takes a signal.
TICK = 0.2


def load_worker_class(spec):
    # type: (str) -> Type[Any]
    """``"package.module:Class"`` -> the class, checked to be a concrete ``Client``."""
    from topchef_client.worker import Client
    module_name, _, class_name = spec.partition(":")
    if not module_name or not class_name:
        raise UsageError("give the worker class as MODULE:CLASS, not %r" % spec)
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        raise UsageError("cannot import %s: %s: %s" % (module_name, type(error).__name__,
                                                        error))
    worker_class = getattr(module, class_name, None)
    if worker_class is None:
        raise UsageError("module %s has no %s" % (module_name, class_name))
    if not (isinstance(worker_class, type) and issubclass(worker_class, Client)):
        raise UsageError("%s is not a subclass of topchef_client.Client" % spec)
    if inspect.isabstract(worker_class):
        missing = sorted(getattr(worker_class, "__abstractmethods__", ()))
        raise UsageError("%s cannot run jobs: it does not implement %s" % (
            spec, ", ".join("%s()" % name for name in missing)))
    return worker_class


def worker_options(arguments):
    # type: (Any) -> Dict[str, Any]
    """The ``Client`` keyword arguments that the command line sets."""
    options = dict(threads=arguments.threads, poll_interval=arguments.poll_interval,
                   max_poll_interval=arguments.max_poll_interval,
                   heartbeat_interval=arguments.heartbeat_interval)
    # Left out unless given, so that the class's attributes and the library's
    # defaults apply.
    for name in ("time_limit", "isolation", "max_retries", "retries", "request_timeout"):
        if getattr(arguments, name) is not None:
            options[name] = getattr(arguments, name)
    return options


def run_worker(arguments, console):
    worker_class = load_worker_class(arguments.worker_class)
    if not (arguments.register or arguments.service_id):
        raise UsageError("give --service-id ID, or --register NAME to make a service")
    if arguments.register and not arguments.registration_schema:
        raise UsageError("--register needs --registration-schema FILE")
    schemas = (read_json(arguments.registration_schema, "the registration schema"),
               read_json(arguments.result_schema, "the result schema")
               if arguments.result_schema else None) if arguments.register else None
    if arguments.service_id:
        canonical_id(arguments.service_id, ServiceNotFound)  # not a UUID: say so now
    address = server_address(arguments)
    options = worker_options(arguments)
    try:
        if schemas is not None:
            from topchef_client.api import Connection
            connection = Connection(address, retries=0, timeout=arguments.request_timeout)
            try:
                options["generation"] = check_server(connection, lambda: connection.generation)
            finally:
                connection.close()
            worker = worker_class.register_service(
                address, arguments.register, arguments.description, schemas[0], schemas[1],
                service_timeout=arguments.service_timeout, **options)
            console.say(worker.id)
        else:
            worker = worker_class(address, arguments.service_id, **options)
            # The worker's own first look at its service: start() asks no more.
            try:
                check_server(worker.connection, lambda: worker.binding.fetch(retry=False),
                             worker.id)
            except Exception:
                worker.connection.close()
                raise
    except (TypeError, ValueError) as error:
        if isinstance(error, TopChefError):
            raise
        raise UsageError(error)
    log.info("running %s for service %s at %s", arguments.worker_class, worker.id,
             worker.address)
    limits = Limits(worker, arguments.max_jobs, arguments.max_idle_time)
    signum = serve(worker, arguments.burst, limits)
    return EXIT_OK if signum is None else EXIT_SIGNAL_BASE + signum


def check_server(connection, ask, service_id=None):
    # type: (Any, Callable[[], Any], Optional[str]) -> Any
    """Call ``ask()``, one attempt at the server through ``connection``; return its answer.

    :raises CommandFailed: the server does not answer, or the service does not exist.
    """
    outcome = {}  # type: Dict[str, Any]

    def ask_for_outcome():
        try:
            outcome["answer"] = ask()
        except Exception as error:
            outcome["error"] = error

    # In a thread, so that the main thread can say what it waits for (and
    # takes Ctrl-C at once on every Python).
    thread = threading.Thread(target=ask_for_outcome, name="topchef-server-check")
    thread.daemon = True
    thread.start()
    read_timeout = connection.timeout[1] if isinstance(connection.timeout, tuple) \
        else connection.timeout
    patience = min(PATIENCE, read_timeout / 2)
    thread.join(patience)
    if thread.is_alive():
        log.warning("waiting for %s to answer: no answer after %g s (it gives up after "
                    "the read timeout of %g s)", connection.address, patience, read_timeout)
        while thread.is_alive():
            thread.join(TICK)
    error = outcome.get("error")
    if isinstance(error, ServiceNotFound):
        raise CommandFailed("service %s does not exist at %s" % (service_id, connection.address))
    if isinstance(error, ResponseTimeout):
        raise CommandFailed("the server at %s accepts connections but does not answer (%s)"
                            % (connection.address, error))
    if isinstance(error, NetworkError):
        raise CommandFailed("cannot reach %s: %s" % (connection.address, error))
    if error is not None:
        raise error
    return outcome["answer"]


class Limits(object):
    """``--max-jobs`` and ``--max-idle-time``: when a worker has done enough.

    The count of finished jobs is watched in the processing thread that
    finishes each one, so the worker drains before that thread takes another.
    """

    def __init__(self, worker, max_jobs=None, max_idle_time=None):
        self.worker = worker
        self.max_jobs = max_jobs
        self.max_idle_time = max_idle_time
        self.last_busy = monotonic()
        if max_jobs is not None or max_idle_time is not None:
            worker.stats = FinishedJobsStats(self._job_finished)

    def _job_finished(self, count):
        self.last_busy = monotonic()
        if self.max_jobs is not None and count >= self.max_jobs:
            if self.worker.lifecycle.state in (STARTING, RUNNING):
                log.info("%d job(s) finished (--max-jobs %d): stopping", count, self.max_jobs)
            self.worker.drain()

    def idle_too_long(self):
        # type: () -> bool
        """Whether the worker has had no job for ``max_idle_time`` seconds (call it often)."""
        if self.max_idle_time is None:
            return False
        now = monotonic()
        if self.worker.jobs.in_flight() or self.worker.lifecycle.state == STARTING:
            self.last_busy = now
        return now - self.last_busy >= self.max_idle_time


class FinishedJobsStats(WorkerStats):
    """``WorkerStats`` that call ``on_job_finished(count)`` each time a job ends."""

    def __init__(self, on_job_finished):
        WorkerStats.__init__(self)
        self._on_job_finished = on_job_finished

    def add(self, name):
        # type: (str) -> None
        WorkerStats.add(self, name)
        if name in ("jobs_completed", "jobs_failed"):
            finished = getattr(self, "jobs_completed") + getattr(self, "jobs_failed")
            self._on_job_finished(finished)


def serve(worker, burst, limits):
    # type: (Any, bool, Limits) -> Optional[int]
    """Run ``worker`` until it stops; return the signal that stopped it, if one did.

    As ``Client.serve_forever``, with the limits besides, and the signal
    remembered for the exit code.
    """
    def stop_when_idle_too_long():
        if limits.idle_too_long() and worker.lifecycle.state == RUNNING:
            log.info("no job for %g s (--max-idle-time): stopping", limits.max_idle_time)
            worker.drain()

    return block_until_stopped(
        worker, start=lambda: worker.start(handle_sigterm=False, burst=burst),
        on_tick=stop_when_idle_too_long)
