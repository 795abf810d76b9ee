"""The worker never dies of the server: faults, a vanished service, outages, restarts.

Faults come from a FaultProxy between the worker and a LocalServer of each
generation. Workers here make no automatic HTTP retries (``retries=0``), so
each fault reaches the worker's own loops, which must log it, report it in
``healthy``, ``last_error`` and the counters, back off and carry on.
"""
import collections
import logging

import pytest

from topchef_client import (COMPLETED, REGISTERED, WORKING, NetworkError, ProtocolError,
                            ResponseTimeout, ServerError, ServiceNotFound, TopChef,
                            TopChefError)
from topchef_client.testing import LocalServer
from topchef_client.testing.proxy import Hang, Reset, Respond

from jobs import (ADD_ONE_RESULT_SCHEMA, COUNTER_REGISTRATION_SCHEMA, AddOne, Blocking,
                  Recording, SlowRecording, counted)
from support import jobs_by_status, messages_naming, threads_alive, wait_until

HTML_PAGE = (b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
             b"<body><h1>Bad Gateway</h1></body></html>")

#: name: (fault factory, the error the worker should record, extra worker options)
FAULTS = {
    "connection-reset": (lambda: Reset(), NetworkError, {}),
    "reset-after-the-server-acted": (lambda: Reset(after_forwarding=True), NetworkError, {}),
    "no-answer-in-time": (lambda: Hang(), ResponseTimeout, {"request_timeout": (2.0, 0.1)}),
    "500-html-page": (lambda: Respond(500, HTML_PAGE, content_type="text/html"),
                      ServerError, {}),
    "502-html-page": (lambda: Respond(502, HTML_PAGE, content_type="text/html"),
                      ServerError, {}),
    "200-html-page": (lambda: Respond(200, HTML_PAGE, content_type="text/html"),
                      ProtocolError, {}),
    "200-bad-json": (lambda: Respond(200, b'{"data": [{"id": ', content_type="application/json"),
                     ProtocolError, {}),
}


def fault_params(*names):
    return [pytest.param(name, id=name) for name in names]


def job_update_method(generation):
    return "PUT" if generation == "2016" else "PATCH"


@pytest.fixture
def faulty_worker(proxy, make_worker):
    """``faulty_worker(WorkerClass, fault_name, **options)``: a worker behind the proxy."""

    def make(worker_class, fault_name, **options):
        settings = dict(FAULTS[fault_name][2], address=proxy.url, retries=0)
        settings.update(options)
        return make_worker(worker_class, **settings)

    return make


# Faults while polling the queue

@pytest.mark.parametrize("fault_name", fault_params(
    "connection-reset", "no-answer-in-time", "500-html-page", "200-html-page", "200-bad-json"))
def test_a_fault_while_polling_makes_the_worker_unhealthy_until_polling_works_again(
        proxy, topchef, service, faulty_worker, caplog, fault_name):
    fault, error_class, _ = FAULTS[fault_name]
    rule = proxy.add_rule(fault(), method="GET", path=r"/queue$")
    worker = faulty_worker(counted(AddOne), fault_name, heartbeat_interval=60).start()
    job = topchef.submit(service, {"value": 1})

    wait_until(lambda: worker.stats.polls_failed >= 2)

    assert not worker.healthy
    assert isinstance(worker.last_error, error_class)
    assert messages_naming(caplog, "polling failed", logging.WARNING)
    assert threads_alive(worker)
    assert topchef.job(job).status == REGISTERED
    rule.remove()
    assert topchef.wait(job, timeout=10, poll_interval=0.01) == {"value": 2}
    wait_until(lambda: worker.healthy)
    assert worker.calls == [{"value": 1}]
    assert worker.stats.polls > worker.stats.polls_failed


# Faults while claiming and reporting a job

@pytest.mark.parametrize("fault_name", fault_params(
    "connection-reset", "reset-after-the-server-acted", "no-answer-in-time", "500-html-page",
    "200-html-page", "200-bad-json"))
def test_a_fault_while_updating_a_job_is_retried_until_the_job_completes_once(
        generation, proxy, topchef, service, faulty_worker, caplog, fault_name):
    fault, error_class, _ = FAULTS[fault_name]
    rule = proxy.add_rule(fault(), method=job_update_method(generation), path=r"^/jobs/")
    worker = faulty_worker(counted(AddOne), fault_name, heartbeat_interval=60).start()
    job = topchef.submit(service, {"value": 1})

    wait_until(lambda: not worker.healthy and len(messages_naming(caplog, job.id)) >= 2)

    assert isinstance(worker.last_error, error_class)
    assert messages_naming(caplog, job.id, logging.WARNING)
    assert threads_alive(worker)
    assert not topchef.job(job).is_finished
    rule.remove()
    assert topchef.wait(job, timeout=10, poll_interval=0.01) == {"value": 2}
    wait_until(lambda: worker.healthy and worker.stats.jobs_completed == 1)
    assert worker.calls == [{"value": 1}]  # a claim retried is not a job run twice
    assert worker.stats.jobs_failed == 0


# 2017 workers never fetch a job: the queue page has its parameters.
@pytest.mark.parametrize("generation", ["2016"])
def test_a_fault_while_fetching_a_2016_job_is_retried_until_the_job_completes(
        proxy, topchef, service, faulty_worker, caplog):
    rule = proxy.add_rule(Respond(500, HTML_PAGE, content_type="text/html"), method="GET",
                          path=r"^/jobs/")
    worker = faulty_worker(counted(AddOne), "500-html-page").start()
    job = topchef.submit(service, {"value": 1})

    wait_until(lambda: rule.hits >= 2 and not worker.healthy)

    assert messages_naming(caplog, job.id, logging.WARNING)
    assert threads_alive(worker)
    rule.remove()
    assert topchef.wait(job, timeout=10, poll_interval=0.01) == {"value": 2}
    wait_until(lambda: worker.healthy)
    assert worker.calls == [{"value": 1}]


# Faults of the heartbeat

@pytest.mark.parametrize("fault_name", fault_params(
    "connection-reset", "no-answer-in-time", "500-html-page", "502-html-page"))
def test_a_fault_of_the_heartbeat_makes_the_worker_unhealthy_until_a_heartbeat_works(
        proxy, service, faulty_worker, caplog, fault_name):
    fault, error_class, _ = FAULTS[fault_name]
    rule = proxy.add_rule(fault(), method="PATCH", path=r"^/services/")
    worker = faulty_worker(AddOne, fault_name, heartbeat_interval=0.02).start()

    wait_until(lambda: worker.stats.heartbeats_failed >= 2)

    assert not worker.healthy
    assert isinstance(worker.last_error, error_class)
    assert messages_naming(caplog, "heartbeat failed", logging.WARNING)
    assert threads_alive(worker)
    rule.remove()
    sent = worker.stats.heartbeats_sent
    wait_until(lambda: worker.healthy and worker.stats.heartbeats_sent > sent)
    assert threads_alive(worker)


def test_the_server_going_away_and_back_is_survived_by_both_threads(
        proxy, topchef, service, faulty_worker):
    worker = faulty_worker(counted(AddOne), "connection-reset",
                           heartbeat_interval=0.02).start()
    wait_until(lambda: worker.stats.heartbeats_sent >= 1 and worker.stats.polls >= 1)

    proxy.go_down()
    wait_until(lambda: worker.stats.heartbeats_failed >= 2 and worker.stats.polls_failed >= 2)

    assert not worker.healthy
    assert isinstance(worker.last_error, NetworkError)
    assert threads_alive(worker)
    proxy.come_up()
    job = topchef.submit(service, {"value": 9})
    assert topchef.wait(job, timeout=10, poll_interval=0.01) == {"value": 10}
    wait_until(lambda: worker.healthy)


# A service that vanished (404)

def test_a_deleted_service_makes_both_threads_log_404s_and_carry_on(
        server, service, make_worker, caplog):
    worker = make_worker(AddOne, heartbeat_interval=0.02).start()
    wait_until(lambda: worker.stats.heartbeats_sent >= 1 and worker.stats.polls >= 1)

    assert server.delete_service(service.id)
    wait_until(lambda: worker.stats.heartbeats_failed >= 2 and worker.stats.polls_failed >= 2)

    assert not worker.healthy
    assert isinstance(worker.last_error, ServiceNotFound)
    assert messages_naming(caplog, service.id, logging.WARNING)
    assert threads_alive(worker)


def test_a_job_whose_service_was_deleted_while_it_ran_is_dropped_with_a_log_line(
        server, topchef, service, make_worker, caplog):
    worker = make_worker(Blocking).start()
    job = topchef.submit(service, {"value": 3})
    assert worker.started.wait(10)

    assert server.delete_service(service.id)
    worker.release.set()

    wait_until(lambda: messages_naming(caplog, job.id, logging.WARNING))
    wait_until(lambda: worker.stats.polls_failed >= 1)
    assert worker.stats.jobs_completed == 0
    assert threads_alive(worker)


# Outages and restarts of a server that keeps its database

@pytest.fixture
def database_server(tmpdir, generation):
    """A LocalServer on a database file, which survives stop() and start()."""
    server = LocalServer(generation=generation, db=str(tmpdir.join("topchef.db"))).start()
    yield server
    server.stop()


def submit_counted_jobs(server, count):
    with TopChef(server.url) as topchef:
        service = topchef.register_service("Counter", "Adds one", COUNTER_REGISTRATION_SCHEMA,
                                           ADD_ONE_RESULT_SCHEMA)
        for value in range(count):
            topchef.submit(service, {"value": value})
    return service


def test_a_worker_started_while_its_server_is_down_completes_every_job_once_it_is_up(
        database_server, make_worker):
    service = submit_counted_jobs(database_server, 20)
    address = database_server.url
    database_server.stop()
    worker = make_worker(Recording, address=address, service_id=service.id, retries=0,
                         heartbeat_interval=0.02).start()

    # It starts all the same, and tries: first to recover abandoned jobs, which
    # it must do before it polls or beats.
    wait_until(lambda: not worker.healthy and worker.last_error is not None)
    assert not worker.healthy
    assert isinstance(worker.last_error, NetworkError)
    assert threads_alive(worker)

    database_server.start()
    assert database_server.url == address
    wait_until(lambda: list(jobs_by_status(database_server, service.id)) == [COMPLETED])
    assert worker.runs == collections.Counter(range(20))
    wait_until(lambda: worker.healthy)


def test_a_server_restarted_mid_run_on_its_database_loses_no_job_and_runs_none_twice(
        database_server, make_worker):
    service = submit_counted_jobs(database_server, 60)
    worker = make_worker(SlowRecording, service_id=service.id, address=database_server.url,
                         retries=0, threads=2).start()
    wait_until(lambda: worker.stats.jobs_completed >= 10)

    database_server.stop()
    wait_until(lambda: not worker.healthy)
    assert sum(worker.runs.values()) < 60  # the restart happens mid-run
    database_server.start()

    wait_until(lambda: list(jobs_by_status(database_server, service.id)) == [COMPLETED])
    assert worker.runs == collections.Counter(range(60))
    wait_until(lambda: worker.healthy)
    assert threads_alive(worker)
    assert WORKING not in jobs_by_status(database_server, service.id)
    assert isinstance(worker.last_error, TopChefError)
