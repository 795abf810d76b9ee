"""``Client``: a worker that runs the jobs of one TopChef service.

Subclass it, implement ``run``, and start it::

    class AddOne(Client):
        def run(self, parameters):
            return {"value": parameters["value"] + 1}

    AddOne("http://localhost:5000", service_id).serve_forever()

The roles
---------
A started worker is made of these parts, each in a module of its own:

* **the coordinator**, ``Client`` (here): configuration, ``run``, and the
  lifecycle: ``start``, ``stop``, ``stop_now``, ``join``, ``serve_forever``,
  ``burst``, ``process_one``. Its one state, a ``lifecycle.Lifecycle``
  (starting, running, draining, abandoning, stopping, stopped), is what
  every other part reads and waits on.
* **the job source**, ``polling.JobSource``: the service's queue as the
  processing threads share it; one poll at a time, pausing while it is empty.
* **the start-up**, ``startup``: a thread that recovers the jobs a dead
  worker left WORKING (``recovery``) and calls ``setup()`` before the
  worker runs.
* **the processing threads**, ``threads`` of them, each in a
  ``lanes.Lane``: each takes a job from the source and has the
  ``processing.JobProcessor`` validate, claim, run and report it.
* **the execution** of ``run``: in the processing thread, held to the time
  limit by a ``limits.Timekeeper`` (``execution``), or in a child process
  per lane (``isolation`` and ``child``).
* **the heartbeat**, ``heartbeat.Heartbeat``: a thread that PATCHes the
  service while the worker lives; it says hello once the worker runs and
  goodbye when it has stopped (2017 servers: ``is_available``).
* **the service binding**, ``binding.ServiceBinding``: the service and its
  schemas, fetched once.
* **signals and exit hooks**, ``signals``: the first SIGINT or SIGTERM in
  ``serve_forever`` drains, the second abandons; SIGTERM becomes
  ``SystemExit`` so that the exit hook can finish or requeue running jobs.

The names of the original client live in ``legacy.OriginalClientNames``.

The stop order
--------------
1. No new job is taken: ``stop()``, a first signal, or the end of a burst
   drains; ``stop_now()``, a second signal, or the end of the exit hook's
   grace period abandons, putting running jobs back in the queue at once.
2. The processing threads finish (or give up) their jobs and end, while the
   heartbeat goes on, so the server sees the worker alive until its last
   job is reported.
3. The last processing thread to end (``stop_now()`` itself, when
   abandoning) finishes the shutdown: ``teardown()``, then the heartbeat
   stops, the goodbye is said in one short attempt, and the worker is
   stopped: ``is_running`` is false and ``join()`` returns. Nobody has to
   call ``join()`` for this.
"""
import abc
import logging
import threading

import six

from topchef_client import defaults, options
from topchef_client.binding import (  # noqa: F401  (names that lived here before)
    CONNECTION_OPTIONS, ServiceBinding, connection_for, register, worker_connection)
from topchef_client.compat import monotonic
from topchef_client.exceptions import ServiceNotFound
from topchef_client.execution import ThreadExecution
from topchef_client.health import Health, WorkerStats
from topchef_client.heartbeat import MAX_HEARTBEAT_INTERVAL, Heartbeat
from topchef_client.isolation import ProcessExecution
from topchef_client.lanes import Lanes, join_all
from topchef_client.legacy import OriginalClientNames
from topchef_client.lifecycle import (
    ABANDONING, DRAINING, RUNNING, STARTING, STOPPED, STOPPING, WINDING_DOWN, Lifecycle)
from topchef_client.models import canonical_id
from topchef_client.options import FROM_CLASS
from topchef_client.polling import Backoff, JobSource
from topchef_client.processing import JobProcessor
from topchef_client.signals import block_until_stopped, exit_on_sigterm, running_workers
from topchef_client.startup import check_service, start_thread, tear_down

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Callable, Dict, List, Optional, Type, TypeVar, Union  # noqa: F401
    import uuid  # noqa: F401
    from topchef_client.api import Connection  # noqa: F401
    from topchef_client.models import Job  # noqa: F401
    W = TypeVar("W", bound="Client")

log = logging.getLogger(__name__)

#: How long the shutdown waits for a heartbeat request under way before the goodbye.
HEARTBEAT_JOIN_TIMEOUT = 1.0


@six.add_metaclass(abc.ABCMeta)
class Client(OriginalClientNames):
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
    :param time_limit: see the class attribute, which is the default.
    :param isolation: see the class attribute, which is the default.
    :param max_retries: see the class attribute, which is the default.
    :param recover_abandoned: see the class attribute, which is the default.
    :param connection: an ``api.Connection`` to use instead of a new one.
    :param connection_options: for the new ``Connection``: ``request_timeout``
        (its ``timeout``), ``retries``, ``auth``, ``headers``, ``verify``,
        ``cert``, ``session``, ``pool_size``, ``generation``.
    :raises TypeError, ValueError: an option is not what it must be; the
        message names it, its value and what is allowed.

    A subclass can declare its own ``time_limit``, ``isolation``,
    ``max_retries`` and ``recover_abandoned``; the docs' "Running jobs
    safely" page tells what each can and cannot promise.
    """

    #: Seconds a job may run before it fails with ``TimeLimitExceeded``; None: no limit.
    time_limit = None  # type: Optional[float]
    #: Where jobs run: ``"thread"`` (in the processing thread) or ``"process"``.
    isolation = "thread"
    #: How often a job whose ``run`` raised ``Retry`` is run again.
    max_retries = 0
    #: Whether a starting worker puts back jobs left WORKING by a dead one.
    recover_abandoned = True

    def __new__(cls, *args, **kwargs):
        # What the worker was made with, to make it again in a job process.
        worker = super(Client, cls).__new__(cls)
        worker.constructor_arguments = (args, kwargs)
        return worker

    def __init__(self, address, service_id, timeout=None, heartbeat_interval=None,
                 poll_interval=defaults.DEFAULT_POLL_INTERVAL,
                 max_poll_interval=defaults.DEFAULT_MAX_POLL_INTERVAL, threads=1,
                 exit_grace_period=defaults.DEFAULT_EXIT_GRACE_PERIOD,
                 failure_backoff=defaults.DEFAULT_FAILURE_BACKOFF,
                 max_failure_backoff=defaults.DEFAULT_MAX_FAILURE_BACKOFF,
                 time_limit=FROM_CLASS, isolation=FROM_CLASS, max_retries=FROM_CLASS,
                 recover_abandoned=FROM_CLASS, connection=None, **connection_options):
        # type: (str, Union[str, uuid.UUID], Optional[float], Optional[float], float, float, int, float, float, float, Any, Any, Any, Any, Optional[Connection], **Any) -> None
        self.threads = options.whole_number("threads", threads, minimum=1, maximum=1024)
        interval = heartbeat_interval if heartbeat_interval is not None else timeout
        self.configured_heartbeat_interval = options.seconds(
            "heartbeat_interval", interval, allow_none=True, maximum=MAX_HEARTBEAT_INTERVAL)
        poll_interval = options.seconds("poll_interval", poll_interval)
        max_poll_interval = options.seconds("max_poll_interval", max_poll_interval)
        self.exit_grace_period = options.seconds("exit_grace_period", exit_grace_period,
                                                 allow_zero=True)
        self.failure_backoff = options.seconds("failure_backoff", failure_backoff)
        self.max_failure_backoff = options.seconds("max_failure_backoff", max_failure_backoff)
        (self.time_limit, self.isolation, self.max_retries,
         self.recover_abandoned) = options.job_control(
            type(self), time_limit, isolation, max_retries, recover_abandoned)
        self.id = canonical_id(service_id, ServiceNotFound)
        self.connection = connection = worker_connection(self, address, connection,
                                                         connection_options)
        self.address = connection.address
        self.binding = ServiceBinding(connection, self.id)
        self.stats = WorkerStats()
        self.health = Health()
        self.lifecycle = Lifecycle()
        self.processor = JobProcessor(self)
        # No jitter while idle: a jittered pause at the cap would poll more
        # often than once per max_poll_interval.
        self.jobs = JobSource(self.processor.poll_queue,
                              idle=Backoff(poll_interval, max_poll_interval, jitter=False),
                              failing=Backoff(self.failure_backoff, self.max_failure_backoff),
                              serving=lambda: self.lifecycle.state in (STOPPED, RUNNING))
        self.execution = (ProcessExecution(self) if self.isolation == "process"
                          else ThreadExecution(self))
        self.heartbeat = Heartbeat(self)
        self.lanes = Lanes(self, on_last_end=self._finish)
        self.setup_lock = threading.Lock()
        self.is_set_up = False

    def __repr__(self):
        return "<%s service=%s at %s>" % (type(self).__name__, self.id, self.address)

    @abc.abstractmethod
    def run(self, parameters):
        # type: (Dict[str, Any]) -> Dict[str, Any]
        """Run one job: take its parameters (a dict) and return its result (a dict).

        ``parameters`` already satisfies the service's job registration
        schema; the result must satisfy its job result schema. Raising marks
        the job as failed, with the exception in its result; raising
        ``Retry`` puts it back in the queue to run again.
        """

    def setup(self):
        # type: () -> None
        """Prepare what every job needs (open an instrument, load a model): override it.

        Called once where jobs run, before the first one: in the worker
        process before it polls (thread isolation; a failure is logged and
        retried with backoff, and no job is taken until it succeeds), or in
        each job process (process isolation).
        """

    def teardown(self):
        # type: () -> None
        """Release what ``setup`` made: override it. Called once, when the worker stops."""

    @classmethod
    def register_service(cls, address, name, description, job_registration_schema,
                         job_result_schema=None, service_timeout=None, **worker_options):
        # type: (Type[W], str, str, str, Dict[str, Any], Optional[Dict[str, Any]], Optional[int], **Any) -> W
        """Register a new service and return a worker bound to it.

        :param job_result_schema: defaults to ``{"type": "object"}``.
        :param service_timeout: the service's timeout in seconds (2017 servers).
        :param worker_options: for the constructor (``threads``, ``auth``, ...).
        """
        connection, service, schemas = register(
            address, name, description, job_registration_schema, job_result_schema,
            service_timeout, worker_options)
        worker = cls(address, service.id, connection=connection, **worker_options)
        # Validate against what was asked for: a 2016 server keeps only part
        # of it (docs/server-api.rst quirk trimmed-schemas).
        worker.binding.use(service, schemas[0], schemas[1], from_server=False)
        return worker

    # What the worker is doing

    @property
    def heartbeat_interval(self):
        # type: () -> float
        """Seconds between heartbeats: unless set, a third of the service's timeout (<= 1 h)."""
        return self.heartbeat.interval

    @property
    def heartbeat_thread(self):
        # type: () -> Optional[threading.Thread]
        return self.heartbeat.thread

    @property
    def processing_threads(self):
        # type: () -> List[threading.Thread]
        return self.lanes.threads

    @property
    def current_job(self):
        # type: () -> Optional[Job]
        """The job whose ``run`` the calling thread is in, or None."""
        return self.processor.current_job

    @property
    def healthy(self):
        # type: () -> bool
        """False while the last attempt of polling, of the heartbeat or of a job update failed."""
        return self.health.healthy

    @property
    def last_error(self):
        # type: () -> Optional[BaseException]
        """The last error the worker met (also logged), or None."""
        return self.health.last_error

    @property
    def is_running(self):
        # type: () -> bool
        """Whether the worker has been started and has not stopped yet."""
        return self.lifecycle.state != STOPPED

    # Starting and stopping

    def start(self, should_poll=True, handle_sigterm=True, burst=False):
        # type: (W, bool, bool, bool) -> W
        """Start the heartbeat thread and the processing threads; return at once.

        :param should_poll: start the heartbeat thread (the original name).
        :param handle_sigterm: when called from the main thread of a program
            that leaves SIGTERM at its default, turn SIGTERM into ``SystemExit``
            so that the exit hook finishes or requeues the running job.
        :param burst: stop by itself once the queue has been found empty.
        """
        if not self.lifecycle.move(STARTING, [STOPPED]):
            raise RuntimeError("%r is already running" % self)
        try:
            check_service(self)
        except BaseException:
            self.lifecycle.move(STOPPED, [STARTING])
            raise
        self.jobs.restart(burst)
        running_workers.add(self)
        if handle_sigterm:
            exit_on_sigterm()
        if should_poll:
            self.heartbeat.start(may_beat=not self.recover_abandoned)
        else:
            self.heartbeat.reset()
        self.execution.start()
        self.lanes.start(self.threads)
        start_thread(self)
        return self

    def stop(self, timeout=None):
        # type: (Optional[float]) -> bool
        """Stop gracefully; return whether it has stopped within ``timeout`` seconds.

        No new job is taken; running jobs finish and are reported while the
        heartbeat goes on; then the heartbeat stops and (2017) the service is
        marked unavailable. Safe to call from any thread, more than once;
        from inside ``run`` it only asks, since the job must finish first.
        """
        self.drain()
        if self.lifecycle.state == STOPPED:
            tear_down(self)  # after process_one(), which sets up without starting
        return self.join(timeout)

    def drain(self):
        # type: () -> None
        """Take no new job; running ones finish (``stop`` without waiting)."""
        if not self.lifecycle.move(DRAINING, [STARTING, RUNNING]):
            if self.lifecycle.state != DRAINING:
                return
            # A signal handler drained without waking anyone (it cannot).
            self.lifecycle.wake()
        self.jobs.wake()

    def stop_now(self):
        # type: () -> None
        """Stop at once: running jobs are put back in the queue as REGISTERED.

        ``run`` calls already under way cannot be interrupted; their results
        are discarded.
        """
        if not self.lifecycle.move(ABANDONING, [STARTING, RUNNING, DRAINING]):
            return
        self.jobs.wake()
        self.processor.abandon(self.lanes.give_up())
        self._finish()

    def _finish(self):
        """When processing is over: stop the heartbeat, say goodbye, and be stopped."""
        if not self.lifecycle.move(STOPPING, [STARTING, RUNNING, DRAINING, ABANDONING]):
            return
        self.execution.stop()
        tear_down(self)
        self.heartbeat.join(HEARTBEAT_JOIN_TIMEOUT)
        self.heartbeat.goodbye()
        running_workers.discard(self)
        log.info("worker for service %s stopped: %s", self.id, self.stats)
        self.lifecycle.move(STOPPED, [STOPPING])

    def join(self, timeout=None):
        # type: (Optional[float]) -> bool
        """Wait until the worker has stopped; return whether it has (not inside ``run``)."""
        if threading.current_thread() in self.processing_threads:
            return self.lifecycle.state == STOPPED
        deadline = None if timeout is None else monotonic() + timeout
        # Short slices: Python 2.7 runs signal handlers only between them.
        if not self.lifecycle.wait_for(lambda state: state == STOPPED, timeout, slice=0.2):
            return False
        # The last thread sets the state as it ends: let it end too.
        join_all(list(self.lanes.threads_not_given_up) + [self.heartbeat.thread], deadline)
        return True

    def serve_forever(self, burst=False):
        # type: (bool) -> WorkerStats
        """Start (unless started), block until the worker has stopped, return the ``stats``.

        In the main thread, the first SIGINT or SIGTERM stops gracefully and
        the second stops at once (``stop_now``). With ``burst=True`` it
        returns once the queue is empty and every job taken is finished.
        """
        if not self.is_running:
            self.start(handle_sigterm=False, burst=burst)
        block_until_stopped(self)
        return self.stats

    def burst(self):
        # type: () -> WorkerStats
        """Run every queued job, then stop; return the stats."""
        return self.serve_forever(burst=True)

    def process_one(self):
        # type: () -> Optional[Job]
        """Run one queued job in the calling thread; return it, or None if none.

        The returned ``Job`` is as the server has it afterwards: check
        ``is_complete`` or ``is_failed``.
        """
        if self.lifecycle.state in WINDING_DOWN:
            return None
        return self.processor.process_one()
