"""How a worker gets ready to take jobs, and how it lets go of what it set up.

``start()`` returns at once; the start-up runs in a thread of its own while
the processing threads wait for the worker to be running:

1. recovery of the jobs a dead worker left WORKING (``recovery``), before
   the heartbeat may beat, since it waits for another worker's to lapse;
   It is retried while the server cannot be reached; any other failure is
   logged, and the worker starts without it.
2. ``setup()``, in thread isolation: retried with backoff until it works
   (the worker is unhealthy meanwhile, and takes no job; on a 2017 server
   the service is not marked available);
3. running: the processing threads poll, and the heartbeat says hello.

Any stop meanwhile cuts the start-up short.
"""
import logging
import threading

from topchef_client.exceptions import NetworkError, ServerError, ServiceNotFound, TopChefError
from topchef_client.lifecycle import RUNNING, STARTING
from topchef_client.polling import Backoff
from topchef_client.recovery import try_to_recover

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any  # noqa: F401

log = logging.getLogger("topchef_client.worker")


def start_up(worker):
    # type: (Any) -> None
    """Recover, set up, and set the worker running (in a thread of its own)."""
    lifecycle = worker.lifecycle

    def starting():
        return lifecycle.state == STARTING

    def pause(backoff):
        lifecycle.wait_for(lambda state: state != STARTING, backoff.next())

    backoff = Backoff(worker.failure_backoff, worker.max_failure_backoff)
    # Retried while the server cannot answer; an answer that makes no sense
    # is not worth blocking the worker for (the failure is logged).
    while worker.recover_abandoned and starting() and not try_to_recover(worker):
        if not isinstance(worker.health.last_error, (NetworkError, ServerError)):
            break
        pause(backoff)
    worker.heartbeat.allow()
    backoff = Backoff(worker.failure_backoff, worker.max_failure_backoff)
    while worker.isolation == "thread" and starting():
        try:
            set_up(worker)
        except Exception as error:
            worker.health.failed("setup", error)
            pause(backoff)
            continue
        worker.health.succeeded("setup")
        break
    if lifecycle.move(RUNNING, [STARTING]):
        log.info("worker for service %s running with %d processing thread(s)",
                 worker.id, worker.threads)
    else:
        tear_down(worker)  # stopped during the start-up: let go of a setup that came late


def check_service(worker):
    # type: (Any) -> None
    """Fail fast on a service that does not exist; a server that is down is no error.

    :raises ServiceNotFound: the server says the service does not exist.
    """
    if worker.binding.service is not None:
        return
    try:
        worker.binding.fetch(retry=False)
    except ServiceNotFound:
        raise
    except TopChefError as error:
        worker.health.last_error = error
        log.warning("cannot ask %s about service %s yet; the worker starts and keeps "
                    "trying: %s", worker.address, worker.id, error)


def set_up(worker):
    # type: (Any) -> None
    """Call ``setup()`` unless it succeeded already in this process (thread isolation)."""
    with worker.setup_lock:
        if not worker.is_set_up:
            worker.setup()
            worker.is_set_up = True


def start_thread(worker):
    # type: (Any) -> threading.Thread
    thread = threading.Thread(target=start_up, args=(worker,),
                              name="topchef-startup-%s" % worker.id[:8])
    thread.daemon = True
    thread.start()
    return thread


def tear_down(worker):
    # type: (Any) -> None
    """Call ``teardown()`` once if ``setup()`` succeeded in this process (thread isolation)."""
    with worker.setup_lock:
        if not worker.is_set_up:
            return
        worker.is_set_up = False
        try:
            worker.teardown()
        except Exception:
            log.exception("teardown() of the worker for service %s failed", worker.id)
