# -*- coding: utf-8 -*-
"""Recovery of abandoned jobs: jobs left WORKING by a worker that died.

TopChef has no lease (docs/server-api.rst §7): a job whose worker was killed
(``kill -9``, a power cut) stays WORKING for ever. In the supported model,
one worker process per service, a WORKING job that this process did not
take can only be left over from one that died, so a starting worker puts
such jobs back in the queue before it polls. Unless another worker is
alive: while the service's heartbeat is fresh, the jobs may be running
there, so it waits up to one service timeout for that heartbeat to lapse,
and if it does not, leaves them and says so.
"""
import logging

from topchef_client import defaults
from topchef_client.compat import monotonic
from topchef_client.exceptions import NotFound, TopChefError
from topchef_client.lifecycle import STARTING
from topchef_client.models import REGISTERED, WORKING

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, List  # noqa: F401
    from topchef_client.models import Job  # noqa: F401

log = logging.getLogger("topchef_client.worker")

#: Seconds between looks at the service while waiting for another worker's
#: heartbeat to lapse.
LAPSE_POLL_INTERVAL = 1.0


def stranded_jobs(worker):
    # type: (Any) -> List[Job]
    """The service's WORKING jobs that this process is not running."""
    running = set(job.id for job in worker.jobs.in_flight())
    return [job for job in worker.connection.list_jobs(worker.id)
            if job.status == WORKING and job.id not in running]


def recover_abandoned_jobs(worker, wait_for_lapse=True):
    # type: (Any, bool) -> int
    """Put the service's jobs left WORKING back in the queue; return how many.

    :param wait_for_lapse: first make sure no other worker is alive (at the
        start); False when this process knows (one of its job processes died).
    :raises TopChefError: the server could not be asked.
    """
    stranded = stranded_jobs(worker)
    if not stranded:
        return 0
    if wait_for_lapse:
        service = worker.connection.get_service(worker.id)
        if service.has_timed_out is False:
            # Another worker may be running them: wait for its heartbeat to
            # lapse, then look again (it may have finished some meanwhile).
            if not _heartbeat_lapses(worker, service, len(stranded)):
                return 0
            stranded = stranded_jobs(worker)
    recovered = 0
    for job in stranded:
        try:
            worker.connection.update_job(job, REGISTERED)
        except NotFound:
            continue
        recovered += 1
        worker.stats.add("jobs_recovered")
        log.warning("job %s was left WORKING by a worker that is gone: put back in the "
                    "queue", job.id)
    return recovered


def _heartbeat_lapses(worker, service, count):
    """Whether the fresh heartbeat of ``service`` lapses within a service timeout."""
    timeout = float(service.timeout or defaults.DEFAULT_SERVICE_TIMEOUT)
    log.warning("%d job(s) of service %s are WORKING and its heartbeat is fresh: waiting up "
                "to %g s for the heartbeat of the worker running them to lapse",
                count, worker.id, timeout)
    # has_timed_out turns true just after the timeout: allow a second more.
    deadline = monotonic() + timeout + 1.0
    while monotonic() < deadline:
        if worker.lifecycle.wait_for(lambda state: state != STARTING, LAPSE_POLL_INTERVAL):
            return False  # stopped meanwhile
        if worker.connection.get_service(worker.id).has_timed_out is not False:
            return True
    log.warning("another worker of service %s is alive: its %d WORKING job(s) are left to "
                "it (run one worker process per service)", worker.id, count)
    return False


def try_to_recover(worker, wait_for_lapse=True):
    # type: (Any, bool) -> bool
    """``recover_abandoned_jobs``, its failure logged; return whether it could ask the server."""
    try:
        recover_abandoned_jobs(worker, wait_for_lapse)
    except TopChefError as error:
        worker.health.failed("recovery of abandoned jobs", error)
        return False
    worker.health.succeeded("recovery of abandoned jobs")
    return True
