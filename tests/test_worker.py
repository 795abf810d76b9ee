"""The README's worker: its contract, its job failures, its cost and its modes.

Every test talks real HTTP to a LocalServer of each generation. Lifecycle
(heartbeat, stopping, signals, exit) is in test_worker_lifecycle.py, server
and network faults in test_worker_resilience.py, the original client's names
in test_worker_compat.py.
"""
import collections
import logging

import pytest
import requests

from topchef_client import COMPLETED, ERROR, REGISTERED, Client, ValidationError
from topchef_client.compat import monotonic
from topchef_client.polling import PROBE_EVERY, PROBE_FIRST
from topchef_client.testing.proxy import FaultProxy

from jobs import (ADD_ONE_REGISTRATION_SCHEMA, ADD_ONE_RESULT_SCHEMA, LENIENT_RESULT_SCHEMA,
                  AddOne, BreaksResultSchema, Raising, Recording, ReturnsList, counted)
from support import jobs_by_status, messages_naming, threads_alive, wait_until

#: A schema the local validator reads as draft 6 ("const"); both servers
#: validate draft 4, which ignores "const", and so accept {"value": 2}.
DRAFT6_ONLY_ONE = {
    "$schema": "http://json-schema.org/draft-06/schema#",
    "type": "object",
    "properties": {"value": {"type": "integer", "const": 1}},
    "required": ["value"],
}


class FailsOnTen(Client):
    """AddOne, except that it fails the job whose value is 10."""

    def run(self, parameters):
        if parameters["value"] == 10:
            raise RuntimeError("ten is too many")
        return {"value": parameters["value"] + 1}


def expected_failure(server, job, result_schema):
    """What the server holds for a failed job: (status, whether an error report is kept)."""
    if server.generation == "2016":
        return COMPLETED, True  # no ERROR status; the report is the sign of failure
    return ERROR, result_schema is LENIENT_RESULT_SCHEMA


# The README contract

def test_a_client_without_a_run_method_cannot_be_made():
    class NoRun(Client):
        pass

    with pytest.raises(TypeError):
        NoRun("http://127.0.0.1:5000", "912a5684-7174-11e6-88ce-3c970e7271f5")


def test_the_readme_worker_completes_submitted_jobs(topchef, service, make_worker):
    worker = make_worker(AddOne).start()
    jobs = [topchef.submit(service, {"value": value}) for value in (1, 5, 10)]

    done = topchef.wait_all(jobs, timeout=10, poll_interval=0.01)

    assert [job.status for job in done] == [COMPLETED] * 3
    assert [job.result for job in done] == [{"value": 2}, {"value": 6}, {"value": 11}]
    assert worker.stop(timeout=10)
    assert worker.stats.jobs_completed == 3


def test_start_runs_a_daemon_heartbeat_thread_and_daemon_processing_threads(make_worker):
    worker = make_worker(AddOne, threads=3)

    assert worker.start() is worker

    threads = [worker.heartbeat_thread] + worker.processing_threads
    assert len(worker.processing_threads) == 3
    assert all(thread.daemon and thread.is_alive() for thread in threads)
    assert len(set(thread.name for thread in threads)) == 4
    assert worker.stop(timeout=10)
    assert not any(thread.is_alive() for thread in threads)


def test_the_heartbeat_thread_checks_in_with_patch_requests_on_the_service(
        proxy, service, make_worker):
    worker = make_worker(AddOne, address=proxy.url, heartbeat_interval=0.02).start()

    wait_until(lambda: worker.stats.heartbeats_sent >= 3)

    check_ins = [record for record in proxy.requests
                 if record.method == "PATCH" and record.path == "/services/%s" % service.id]
    assert len(check_ins) >= 3


def test_register_service_registers_a_service_and_returns_a_worker_bound_to_it(
        topchef, register_worker):
    worker = register_worker(AddOne, name="AddOneRegistered")

    assert topchef.service(worker.id).name == "AddOneRegistered"
    worker.start()
    job = topchef.submit(worker.id, {"value": 7})
    assert topchef.wait(job, timeout=10, poll_interval=0.01) == {"value": 8}


# Parameters are validated before run

@pytest.mark.parametrize("generation", ["2016"])
def test_parameters_replaced_without_validation_fail_the_job_as_invalid_and_never_run(
        server, topchef, service, make_worker, caplog):
    job = topchef.submit(service, {"value": 3})
    # A 2016 server lets anyone replace a job's parameters, unchecked.
    response = requests.put("%s/jobs/%s" % (server.url, job.id), json={
        "status": REGISTERED, "result": {}, "parameters": {"value": 11}}, timeout=5)
    assert response.status_code == 200
    worker = make_worker(counted(AddOne)).start()

    wait_until(lambda: worker.stats.jobs_failed == 1)
    polls = worker.stats.polls
    wait_until(lambda: worker.stats.polls >= polls + 3)

    failed = topchef.job(job)
    assert failed.status == COMPLETED
    assert failed.error["type"] == "ValidationError"
    assert "value" in failed.error["message"]
    assert worker.calls == []
    assert (worker.stats.jobs_invalid, worker.stats.jobs_completed) == (1, 0)
    assert messages_naming(caplog, job.id, logging.ERROR)
    assert threads_alive(worker)


def test_a_worker_made_by_register_service_checks_the_full_schema_the_server_did_not(
        topchef, register_worker, caplog):
    worker = register_worker(counted(AddOne), DRAFT6_ONLY_ONE, LENIENT_RESULT_SCHEMA)
    job = topchef.submit(worker.id, {"value": 2}, validate=False)
    assert topchef.job(job).status == REGISTERED  # the server took it
    worker.start()

    wait_until(lambda: worker.stats.jobs_failed == 1)

    failed = topchef.job(job)
    assert failed.is_failed
    assert failed.error["type"] == "ValidationError"
    assert worker.calls == []
    assert worker.stats.jobs_invalid == 1
    assert messages_naming(caplog, job.id, logging.ERROR)


def test_valid_parameters_reach_run_unchanged(topchef, service, make_worker):
    worker = make_worker(counted(AddOne)).start()
    job = topchef.submit(service, {"value": 10})

    assert topchef.wait(job, timeout=10, poll_interval=0.01) == {"value": 11}
    assert worker.calls == [{"value": 10}]
    assert worker.stats.jobs_invalid == 0


# A failing job is reported, logged, and never run again

FAILING_WORKERS = [
    pytest.param(Raising, "ValueError", id="run-raises"),
    pytest.param(ReturnsList, "ProcessingError", id="run-returns-a-list"),
    pytest.param(BreaksResultSchema, "ProcessingError", id="result-breaks-the-schema"),
]
RESULT_SCHEMAS = [
    pytest.param(ADD_ONE_RESULT_SCHEMA, id="no-room-for-an-error-report"),
    pytest.param(LENIENT_RESULT_SCHEMA, id="room-for-an-error-report"),
]


@pytest.mark.parametrize("worker_class, error_type", FAILING_WORKERS)
@pytest.mark.parametrize("result_schema", RESULT_SCHEMAS)
def test_a_failing_job_is_reported_as_failed_logged_and_not_run_again(
        server, topchef, register_worker, caplog, worker_class, error_type, result_schema):
    worker = register_worker(counted(worker_class), ADD_ONE_REGISTRATION_SCHEMA,
                             result_schema).start()
    job = topchef.submit(worker.id, {"value": 4})

    wait_until(lambda: worker.stats.jobs_failed == 1)
    polls = worker.stats.polls
    wait_until(lambda: worker.stats.polls >= polls + 3)

    failed = topchef.job(job)
    status, keeps_report = expected_failure(server, job, result_schema)
    assert failed.status == status
    assert failed.is_failed
    if keeps_report:
        assert set(failed.result) == {"error"}
        assert failed.error["type"] == error_type
        if error_type == "ProcessingError":
            # run() returned: a traceback would show only the library's code.
            assert set(failed.error) == {"type", "message"}
        else:
            assert set(failed.error) == {"type", "message", "traceback"}
            assert error_type in failed.error["traceback"]
            assert "jobs.py" in failed.error["traceback"]  # the user's frames
            assert "topchef_client" not in failed.error["traceback"]
    else:
        assert failed.result is None
    assert worker.calls == [{"value": 4}]
    assert (worker.stats.jobs_completed, worker.stats.jobs_invalid) == (0, 0)
    assert type(worker.last_error).__name__ == error_type
    assert messages_naming(caplog, job.id, logging.ERROR)
    # A bad job is not a sick worker: both threads go on, and so does the queue.
    assert worker.healthy
    assert threads_alive(worker)
    second = topchef.submit(worker.id, {"value": 5})
    wait_until(lambda: worker.stats.jobs_failed == 2)
    assert topchef.job(second).is_failed


# A 2016 server keeps no result schema: there, only register_service knows it.
@pytest.mark.parametrize("generation", ["2017"])
def test_a_result_that_breaks_the_schema_of_a_2017_server_fails_a_plain_client_too(
        topchef, service, make_worker):
    worker = make_worker(BreaksResultSchema).start()
    job = topchef.submit(service, {"value": 4})

    wait_until(lambda: worker.stats.jobs_failed == 1)

    assert topchef.job(job).status == ERROR


# Wasting no requests

JOBS_FOR_COST = 50
#: Requests per job: the claim and the report, plus a tenth of a queue poll on
#: 2017 (ten jobs a page); 2016 queues carry no parameters, so one GET more.
REQUESTS_PER_JOB = {"2016": 3.1, "2017": 2.1}
#: GET /, GET the service, the list of its jobs (recovery of abandoned
#: jobs), the first check-in, the final empty poll, and on 2017 the goodbye
#: that marks the service unavailable; one spare.
REQUESTS_PER_RUN = 7


def status_probes(generation, jobs):
    """The GETs of jobs that a 2017 worker adds to see whether another takes them too."""
    if generation == "2016":
        return 0  # 2016 jobs are read before every claim anyway
    first = min(jobs, PROBE_FIRST)
    return first + jobs // PROBE_EVERY - first // PROBE_EVERY


def test_a_batch_of_jobs_costs_a_fixed_number_of_requests_per_job(
        server, topchef, service, make_worker):
    for number in range(JOBS_FOR_COST):
        topchef.submit(service, {"value": 1 + number % 10})
    before = server.request_count

    stats = make_worker(AddOne).burst()

    assert stats.jobs_completed == JOBS_FOR_COST
    cost = server.request_count - before
    assert cost <= (REQUESTS_PER_JOB[server.generation] * JOBS_FOR_COST + REQUESTS_PER_RUN +
                    status_probes(server.generation, JOBS_FOR_COST))


def test_the_service_is_fetched_once_and_2017_jobs_only_when_probed(
        server, topchef, service, make_worker):
    for number in range(20):
        topchef.submit(service, {"value": 1 + number % 10})

    with FaultProxy(server.url) as proxy:
        make_worker(AddOne, address=proxy.url).burst()
        requests_sent = [(record.method, record.path) for record in proxy.requests]

    assert requests_sent.count(("GET", "/services/%s" % service.id)) == 1
    job_fetches = [path for method, path in requests_sent
                   if method == "GET" and path.startswith("/jobs/")]
    # 2016 queue pages carry no parameters; 2017 ones do, and a lone 2017
    # worker reads only the jobs it probes for another worker.
    assert len(job_fetches) == (20 if server.generation == "2016" else
                                status_probes("2017", 20))


def test_an_idle_worker_polls_no_more_than_once_per_max_poll_interval(server, make_worker):
    max_poll_interval, polls_watched = 0.02, 10
    worker = make_worker(AddOne, threads=4, poll_interval=0.005,
                         max_poll_interval=max_poll_interval, heartbeat_interval=60)
    polled_at = []  # when each poll of the queue began (every thread's)
    get_queue = worker.connection.get_queue

    def timed_get_queue(*args, **kwargs):
        polled_at.append(monotonic())
        return get_queue(*args, **kwargs)

    worker.connection.get_queue = timed_get_queue
    worker.start()
    wait_until(lambda: len(polled_at) >= 4)  # after pauses of 0.005, 0.01, then the cap
    first, requests_before = len(polled_at), server.request_count

    wait_until(lambda: len(polled_at) >= first + polls_watched)

    polls, requests = len(polled_at) - first, server.request_count - requests_before
    pauses = [later - earlier for earlier, later in zip(polled_at[first - 1:], polled_at[first:])]
    # Every pause is the whole interval, however many threads wait for a job.
    assert min(pauses) >= max_poll_interval, pauses
    assert requests <= polls + 1


def test_four_threads_run_each_of_500_jobs_exactly_once(
        server, topchef, counting_service, make_worker):
    for value in range(500):
        topchef.submit(counting_service, {"value": value})
    worker = make_worker(Recording, service_id=counting_service.id, threads=4)

    stats = worker.burst()

    assert worker.runs == collections.Counter(range(500))
    assert stats.jobs_completed == 500
    jobs = server.jobs(counting_service.id)
    assert [job["status"] for job in jobs] == [COMPLETED] * 500
    assert all(job["result"] == {"value": job["parameters"]["value"] + 1} for job in jobs)


# Modes: burst and one job at a time

def test_burst_runs_every_queued_job_then_stops_and_returns_the_stats(
        server, topchef, service, make_worker):
    jobs = [topchef.submit(service, {"value": value}) for value in (2, 4, 6, 8, 10)]
    worker = make_worker(FailsOnTen)

    stats = worker.burst()

    assert stats is worker.stats
    assert (stats.jobs_completed, stats.jobs_failed, stats.jobs_invalid) == (4, 1, 0)
    assert not worker.is_running
    assert not any(thread.is_alive()
                   for thread in [worker.heartbeat_thread] + worker.processing_threads)
    finished = dict((job.id, job) for job in topchef.wait_all(jobs, timeout=1))
    assert [finished[job.id].is_failed for job in jobs] == [False] * 4 + [True]


def test_serve_forever_in_burst_mode_returns_after_one_poll_of_an_empty_queue(
        server, make_worker):
    worker = make_worker(AddOne)

    stats = worker.serve_forever(burst=True)

    assert (stats.polls, stats.jobs_completed, stats.jobs_failed) == (1, 0, 0)
    assert not worker.is_running


def test_a_worker_started_in_burst_mode_stops_by_itself_without_a_join(
        server, topchef, service, make_worker):
    for value in (1, 2, 3):
        topchef.submit(service, {"value": value})
    worker = make_worker(AddOne, heartbeat_interval=0.01)

    worker.start(burst=True)

    # Nobody calls join(), stop() or serve_forever(): the last processing
    # thread to end finishes the shutdown.
    wait_until(lambda: not worker.is_running, message="the burst never stopped")
    worker.heartbeat_thread.join(5)
    assert not worker.heartbeat_thread.is_alive()
    assert not any(thread.is_alive() for thread in worker.processing_threads)
    assert worker.stats.jobs_completed == 3
    assert len(jobs_by_status(server, service.id)["COMPLETED"]) == 3
    if server.generation == "2017":
        assert topchef.service(service).is_available is False  # the goodbye was said


def test_process_one_runs_a_queued_job_in_the_calling_thread_and_returns_it(
        topchef, service, make_worker):
    job = topchef.submit(service, {"value": 4})
    worker = make_worker(AddOne)

    done = worker.process_one()

    assert (done.id, done.status, done.result) == (job.id, COMPLETED, {"value": 5})
    assert topchef.job(job).status == COMPLETED
    assert worker.heartbeat_thread is None and worker.processing_threads == []
    assert worker.stats.jobs_completed == 1


def test_process_one_returns_none_on_an_empty_queue(make_worker):
    worker = make_worker(AddOne)

    assert worker.process_one() is None
    assert worker.stats.polls == 1


def test_process_one_returns_a_failed_job_as_failed(topchef, service, make_worker):
    job = topchef.submit(service, {"value": 4})
    worker = make_worker(Raising)

    done = worker.process_one()

    assert done.id == job.id and done.is_failed
    assert topchef.job(job).is_failed
    assert worker.stats.jobs_failed == 1


def test_process_one_takes_each_queued_job_once(server, topchef, service, make_worker):
    jobs = [topchef.submit(service, {"value": value}) for value in (1, 2, 3)]
    worker = make_worker(counted(AddOne))

    done = [worker.process_one() for _ in range(4)]

    assert done[3] is None
    assert sorted(job.id for job in done[:3]) == sorted(job.id for job in jobs)
    assert sorted(call["value"] for call in worker.calls) == [1, 2, 3]
    assert list(jobs_by_status(server, service.id)) == [COMPLETED]


class InterruptsItself(Client):
    def run(self, parameters):
        raise KeyboardInterrupt()


def test_a_run_that_raises_keyboard_interrupt_fails_its_job_and_the_thread_lives_on(
        topchef, service, make_worker):
    worker = make_worker(InterruptsItself).start()
    job = topchef.submit(service, {"value": 1})

    wait_until(lambda: worker.stats.jobs_failed == 1)

    assert topchef.job(job).is_failed
    assert worker.processing_thread.is_alive()


def test_registering_a_worker_with_a_broken_schema_creates_no_service(topchef, server):
    with pytest.raises(ValidationError):
        AddOne.register_service(server.url, "Broken", "a schema that is not one",
                                {"type": 5})
    assert topchef.services() == []


@pytest.mark.parametrize("generation", ["2016"])
def test_jobs_whose_schema_cannot_be_applied_fail_instead_of_staying_queued(
        topchef, register_worker):
    # A 2016 server drops the top-level "$ref" and takes every job; the
    # worker keeps the schema it registered, which resolves to nothing.
    worker = register_worker(AddOne, registration_schema={"$ref": "#/definitions/nowhere"})
    job = topchef.submit(worker.id, {"value": 1})

    worker.start()
    wait_until(lambda: worker.stats.jobs_failed == 1)

    failed = topchef.job(job)
    assert failed.is_failed
    assert failed.error["message"].startswith(
        "cannot validate parameters: the schema cannot be applied:")
    assert worker.processing_thread.is_alive()
