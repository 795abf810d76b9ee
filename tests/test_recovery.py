"""Recovery of abandoned jobs (recovery.py): jobs left WORKING by a worker that died.

A test strands jobs as a dead worker would leave them (set WORKING through
the API) or kills a worker process with SIGKILL in the middle of a job,
then starts a worker and watches what it does with them. Whether another
worker is alive is the service's heartbeat as the server sees it; the
2016 service timeout is fixed at 30 s, so most tests use a server whose
clock moves only when told to (``clocked_server``), on both generations.
"""
import logging
import os
import signal

import pytest

from topchef_client import COMPLETED, REGISTERED, WORKING
from topchef_client import recovery
from topchef_client.testing import FaultProxy
from topchef_client.testing.proxy import Delay

from jobs import (ADD_ONE_RESULT_SCHEMA, ANY_OBJECT_SCHEMA, COUNTER_REGISTRATION_SCHEMA,
                  Controlled, Journal, Recording)
from support import jobs_by_status, messages_naming, threads_alive, wait_until

#: Past the service timeout of both generations (30 s; 2017 counts a service
#: timed out only strictly after it).
LAPSE = 31


@pytest.fixture
def quick_lapse_checks(monkeypatch):
    """The worker looks at the service's heartbeat every 20 ms instead of every second."""
    monkeypatch.setattr(recovery, "LAPSE_POLL_INTERVAL", 0.02)


@pytest.fixture
def clocked_service(clocked_api):
    return clocked_api.register_service("Counter", "Adds one to any integer",
                                            COUNTER_REGISTRATION_SCHEMA, ADD_ONE_RESULT_SCHEMA)


@pytest.fixture
def clocked_worker(topchef_worker, clocked_server, clocked_service):
    """``clocked_worker(WorkerClass, **options)``: a worker of ``clocked_service``, not started."""
    def make(worker_class=Recording, **options):
        # A quick heartbeat, which would keep the service fresh if it beat too soon.
        options.setdefault("heartbeat_interval", 0.05)
        options.setdefault("address", clocked_server.url)
        return topchef_worker(worker_class, service_id=clocked_service.id, start=False,
                              **options)

    return make


def strand(topchef, service, values):
    """Submit jobs and set them WORKING, as a worker that died in their run leaves them."""
    return [topchef.connection.update_job(topchef.submit(service, {"value": value}), WORKING)
            for value in values]


def statuses(topchef, jobs):
    return [topchef.job(job).status for job in jobs]


def waiting_logged(caplog):
    return messages_naming(caplog, "heartbeat is fresh: waiting", logging.WARNING)


def left_logged(caplog):
    return messages_naming(caplog, "WORKING job(s) are left to it", logging.WARNING)


# At start

def test_jobs_left_working_are_put_back_and_completed_by_a_starting_worker(
        clocked_server, clocked_api, clocked_service, clocked_worker, caplog):
    stranded = strand(clocked_api, clocked_service, [1, 2, 3])
    queued = clocked_api.submit(clocked_service, {"value": 4})
    clocked_server.clock.advance(LAPSE)  # the dead worker's heartbeat has lapsed

    worker = clocked_worker().start()

    wait_until(lambda: statuses(clocked_api, stranded + [queued]) == [COMPLETED] * 4)
    assert [clocked_api.job(job).result for job in stranded + [queued]] == [
        {"value": value + 1} for value in (1, 2, 3, 4)]
    assert dict(worker.runs) == {1: 1, 2: 1, 3: 1, 4: 1}
    assert worker.stats.jobs_recovered == 3
    assert not waiting_logged(caplog)
    for job in stranded:
        assert messages_naming(caplog, "job %s was left WORKING" % job.id, logging.WARNING)


def test_a_lapsed_heartbeat_costs_one_list_of_the_jobs_and_one_look_at_the_service(
        clocked_server, clocked_api, clocked_service, clocked_worker):
    stranded = strand(clocked_api, clocked_service, [1, 2])
    clocked_server.clock.advance(LAPSE)
    with FaultProxy(clocked_server.url) as proxy:
        # Rules that change nothing, to count the requests they match.
        lists = proxy.add_rule(Delay(0), method="GET", path=r"/jobs$")
        looks = proxy.add_rule(Delay(0), method="GET", path=r"^/services/[^/]+$")
        worker = clocked_worker(address=proxy.url).start()

        wait_until(lambda: statuses(clocked_api, stranded) == [COMPLETED] * 2)
        assert worker.stats.jobs_recovered == 2
        # Binding the worker to its service is one look; recovery adds one.
        assert (lists.hits, looks.hits) == (1, 2)
        assert worker.stop(timeout=10)


def test_jobs_left_working_are_left_to_a_worker_whose_heartbeat_stays_fresh(
        clocked_server, clocked_api, clocked_service, clocked_worker, quick_lapse_checks,
        monkeypatch, caplog):
    stranded = strand(clocked_api, clocked_service, [1, 2])
    queued = clocked_api.submit(clocked_service, {"value": 3})
    clocked_api.connection.heartbeat(clocked_service.id)  # another worker is alive
    # The worker waits one service timeout by the server's clock, not the test's.
    monkeypatch.setattr(recovery, "monotonic", clocked_server.clock)

    worker = clocked_worker().start()
    wait_until(lambda: waiting_logged(caplog))
    assert worker.stats.heartbeats_sent == 0  # it must not keep the service alive itself
    assert worker.stats.polls == 0
    for _ in range(4):  # 40 s, each step under the timeout, the other worker beating
        clocked_server.clock.advance(10)
        clocked_api.connection.heartbeat(clocked_service.id)

    wait_until(lambda: left_logged(caplog))
    assert clocked_service.id in left_logged(caplog)[0]
    assert clocked_api.wait(queued, timeout=10) == {"value": 4}
    assert statuses(clocked_api, stranded) == [WORKING, WORKING]
    assert dict(worker.runs) == {3: 1}
    assert worker.stats.jobs_recovered == 0
    assert threads_alive(worker)


def test_jobs_left_working_are_recovered_once_the_other_heartbeat_lapses(
        clocked_server, clocked_api, clocked_service, clocked_worker, quick_lapse_checks,
        caplog):
    stranded = strand(clocked_api, clocked_service, [1, 2])
    clocked_api.connection.heartbeat(clocked_service.id)

    worker = clocked_worker().start()
    wait_until(lambda: waiting_logged(caplog))
    assert statuses(clocked_api, stranded) == [WORKING, WORKING]
    clocked_server.clock.advance(LAPSE)

    wait_until(lambda: statuses(clocked_api, stranded) == [COMPLETED, COMPLETED])
    assert dict(worker.runs) == {1: 1, 2: 1}
    assert worker.stats.jobs_recovered == 2
    assert not left_logged(caplog)
    wait_until(lambda: worker.stats.heartbeats_sent >= 1)  # its own heartbeat, at last


def test_recover_abandoned_false_leaves_jobs_working(
        clocked_server, clocked_api, clocked_service, clocked_worker, caplog):
    stranded = strand(clocked_api, clocked_service, [1, 2])
    clocked_server.clock.advance(LAPSE)

    worker = clocked_worker(recover_abandoned=False).start()
    queued = clocked_api.submit(clocked_service, {"value": 3})

    assert clocked_api.wait(queued, timeout=10) == {"value": 4}
    assert statuses(clocked_api, stranded) == [WORKING, WORKING]
    assert dict(worker.runs) == {3: 1}
    assert worker.stats.jobs_recovered == 0
    assert not messages_naming(caplog, "left WORKING")


# After a job process died

@pytest.fixture
def crashing_worker(register_worker, tmpdir):
    """``crashing_worker(**options)``: a started worker in process isolation, one thread,
    whose job process runs a job that makes it exit at ``crash()``."""
    def make(**options):
        journal = Journal(str(tmpdir.join("journal")))
        worker = register_worker(Controlled, ANY_OBJECT_SCHEMA, ANY_OBJECT_SCHEMA,
                                 journal=journal.path, isolation="process", **options).start()
        trigger = str(tmpdir.join("crash"))
        worker.crashing = worker.connection.submit_job(
            worker.id, {"value": 2, "do": "exit_when", "path": trigger})
        # Its only thread is busy with that job: it takes no other until the crash.
        wait_until(lambda: journal.count("run", 2) == 1)
        worker.crash = lambda: open(trigger, "w").close()
        return worker

    return make


def test_jobs_left_working_are_recovered_at_once_after_a_job_process_dies(
        server, topchef, crashing_worker):
    worker = crashing_worker()
    # Left by this worker's earlier job process, say: its own heartbeat is fresh.
    stranded = strand(topchef, worker.id, [1])

    worker.crash()

    wait_until(lambda: statuses(topchef, stranded) == [COMPLETED])
    assert topchef.job(stranded[0]).result["value"] == 2
    assert topchef.job(worker.crashing).is_failed
    assert worker.stats.jobs_recovered == 1
    assert worker.stats.child_processes_died == 1
    assert WORKING not in jobs_by_status(server, worker.id)


@pytest.mark.parametrize("generation", ["2017"])
def test_recover_abandoned_false_leaves_jobs_working_after_a_job_process_dies(
        server, topchef, crashing_worker):
    worker = crashing_worker(recover_abandoned=False)
    stranded = strand(topchef, worker.id, [1])

    worker.crash()

    wait_until(lambda: topchef.job(worker.crashing).is_failed)
    wait_until(lambda: worker.stats.child_processes_died == 1)
    queued = topchef.submit(worker.id, {"value": 3})
    assert topchef.wait(queued, timeout=10)["value"] == 4  # the worker went on
    assert statuses(topchef, stranded) == [WORKING]
    assert worker.stats.jobs_recovered == 0


# kill -9 of a worker in the middle of a job

KILLED_SCRIPT = """
import time

from topchef_client import Client

STARTED = %(started)r


class Measures(Client):
    def run(self, parameters):
        open(STARTED, "w").close()
        time.sleep(60)
        return {"value": parameters["value"] + 1}


if __name__ == "__main__":
    Measures(%(address)r, %(service_id)r, poll_interval=0.01,
             max_poll_interval=0.05).serve_forever()
"""


def kill_mid_job(scripts, tmpdir, topchef, address, service):
    """A worker process that took a job and is killed with SIGKILL in its run; the job."""
    job = topchef.submit(service, {"value": 7})
    started = str(tmpdir.join("started"))
    script = scripts.start(KILLED_SCRIPT % dict(started=started, address=address,
                                                service_id=service.id))
    wait_until(lambda: os.path.exists(started) or not script.running,
               message="the job did not start")
    assert script.running, script.log()
    assert topchef.job(job).status == WORKING

    script.process.send_signal(signal.SIGKILL)

    assert script.wait(10) == -signal.SIGKILL
    assert topchef.job(job).status == WORKING
    return job


# In process isolation, see test_reliability.py (slow).
@pytest.mark.parametrize("generation", ["2017"])
def test_a_job_whose_2017_worker_was_killed_is_completed_by_the_next_worker(
        generation, topchef, register_worker, scripts, tmpdir, server, quick_lapse_checks,
        caplog):
    worker = register_worker(Recording, service_timeout=1)  # not started yet
    service = topchef.service(worker.id)
    job = kill_mid_job(scripts, tmpdir, topchef, server.url, service)

    worker.start()  # at once: the dead worker's heartbeat is still fresh

    assert topchef.wait(job, timeout=10) == {"value": 8}
    # It waited out the 1 s service timeout, in real time.
    assert waiting_logged(caplog) and "up to 1 s" in waiting_logged(caplog)[0]
    assert dict(worker.runs) == {7: 1}
    assert worker.stats.jobs_recovered == 1
    assert WORKING not in jobs_by_status(server, worker.id)


@pytest.mark.parametrize("generation", ["2016"])
def test_a_job_whose_2016_worker_was_killed_is_completed_by_the_next_worker(
        generation, clocked_server, clocked_api, clocked_service, clocked_worker, scripts,
        tmpdir):
    job = kill_mid_job(scripts, tmpdir, clocked_api, clocked_server.url, clocked_service)
    clocked_server.clock.advance(LAPSE)

    worker = clocked_worker().start()

    assert clocked_api.wait(job, timeout=10) == {"value": 8}
    assert dict(worker.runs) == {7: 1}
    assert worker.stats.jobs_recovered == 1
    assert WORKING not in jobs_by_status(clocked_server, clocked_service.id)
    assert REGISTERED not in jobs_by_status(clocked_server, clocked_service.id)
