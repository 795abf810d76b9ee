"""``producer.TopChef``, the submitter's API, over real HTTP against both generations."""
import threading
import uuid

import pytest

from topchef_client import (
    COMPLETED, ERROR, REGISTERED, WORKING, Connection, Job, JobFailed, JobWaitTimeout,
    ServiceNotFound, TopChef, ValidationError)

from jobs import ADD_ONE_REGISTRATION_SCHEMA, ADD_ONE_RESULT_SCHEMA
from support import wait_until

#: Quick but finite, like conftest.TEST_TIMEOUT (conftest cannot be imported by name).
TEST_TIMEOUT = (2.0, 5.0)

ONLY_2017 = pytest.mark.parametrize("generation", ["2017"])
ERROR_REPORT = {"type": "ValueError", "message": "cannot add one", "traceback": "..."}
#: Quick polling, so that waiting tests spend milliseconds.
FAST_POLL = dict(poll_interval=0.01, max_poll_interval=0.02)


def in_background(function):
    """Run ``function`` in a daemon thread; return the thread and its outcome list."""
    outcome = []

    def run():
        try:
            outcome.append(function())
        except Exception as error:  # handed to the test, which asserts on it
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.daemon = True
    thread.start()
    return thread, outcome


# --- construction -------------------------------------------------------------------------

def test_topchef_needs_an_address_or_a_connection():
    with pytest.raises(ValueError):
        TopChef()


def test_topchef_hands_its_options_to_its_connection():
    topchef = TopChef("http://localhost:5000/", timeout=(1, 2), verify=False)
    assert (topchef.connection.address, topchef.connection.timeout) == (
        "http://localhost:5000", (1, 2))
    assert topchef.connection.transport.session.verify is False


def test_topchef_uses_a_given_connection(server):
    connection = Connection(server.url, timeout=TEST_TIMEOUT)
    with TopChef(connection=connection) as topchef:
        assert topchef.connection is connection
        assert topchef.services() == []
    assert connection.request_count == 2


def test_the_repr_of_topchef_names_its_server():
    assert repr(TopChef("http://localhost:5000")) == "TopChef('http://localhost:5000')"


# --- services -----------------------------------------------------------------------------

def test_register_service_returns_the_service_and_lists_it(topchef):
    service = topchef.register_service("AddOne", "Adds one", ADD_ONE_REGISTRATION_SCHEMA,
                                       ADD_ONE_RESULT_SCHEMA)
    assert [(item.id, item.name) for item in topchef.services()] == [(service.id, "AddOne")]


def test_service_returns_one_service_with_its_schema(topchef, service):
    for reference in (service, service.id):
        found = topchef.service(reference)
        assert (found.id, found.job_registration_schema) == (
            service.id, ADD_ONE_REGISTRATION_SCHEMA)


def test_service_of_an_unknown_id_is_service_not_found(topchef):
    with pytest.raises(ServiceNotFound):
        topchef.service(str(uuid.uuid4()))


def test_a_registration_schema_that_is_not_json_schema_registers_nothing(topchef, server):
    with pytest.raises(ValidationError) as caught:
        topchef.register_service("Broken", "bad schema", {"type": 5})
    assert "not valid JSON Schema" in str(caught.value)
    assert server.request_count == 0
    assert topchef.services() == []


# --- submitting ---------------------------------------------------------------------------

def test_submit_returns_the_registered_job(topchef, service, server):
    job = topchef.submit(service, {"value": 3})
    assert (job.status, job.parameters, job.service_id) == (REGISTERED, {"value": 3}, service.id)
    assert [stored["id"] for stored in server.jobs()] == [job.id]


@pytest.mark.parametrize("parameters, path", [
    ({"value": 30}, ["value"]),
    ({"value": 0}, ["value"]),
    ({"value": "3"}, ["value"]),
    ({}, []),
    ([3], []),
])
def test_invalid_parameters_fail_locally_before_any_request(
        topchef, service, server, parameters, path):
    before = server.request_count
    with pytest.raises(ValidationError) as caught:
        topchef.submit(service, parameters)
    assert caught.value.path == path
    assert isinstance(caught.value, ValueError)
    assert server.request_count == before
    assert server.jobs() == []


def test_the_validation_error_names_the_failing_field_and_the_rule(topchef, service):
    with pytest.raises(ValidationError) as caught:
        topchef.submit(service, {"value": 30})
    assert "invalid parameters at value: 30 is greater than the maximum of 10" in str(
        caught.value)
    assert caught.value.schema_path == ["properties", "value", "maximum"]


def test_the_schema_of_a_service_registered_elsewhere_is_fetched_once(server, service):
    with TopChef(server.url, timeout=TEST_TIMEOUT) as other:
        other.submit(service.id, {"value": 1})
        after_first = server.request_count
        other.submit(service.id, {"value": 2})
        with pytest.raises(ValidationError):
            other.submit(service.id, {"value": 99})
        assert server.request_count - after_first == 1  # the second POST only
    assert [stored["parameters"] for stored in server.jobs()] == [{"value": 1}, {"value": 2}]


def test_the_schema_is_fetched_once_whatever_form_the_service_id_takes(server, service):
    forms = [service.id.upper(), "{%s}" % service.id, uuid.UUID(service.id)]
    with TopChef(server.url, timeout=TEST_TIMEOUT) as other:
        other.submit(service.id, {"value": 1})
        after_first = server.request_count
        for value, form in enumerate(forms, 2):
            other.submit(form, {"value": value})
        assert server.request_count - after_first == len(forms)  # the POSTs only
    assert len(server.jobs()) == 1 + len(forms)


def test_submit_without_validation_leaves_it_to_the_server(topchef, service, server):
    with pytest.raises(ValidationError) as caught:
        topchef.submit(service, {"value": 30}, validate=False)
    assert caught.value.status_code in (400, 500)
    assert "POST" in str(caught.value)
    assert server.jobs() == []


def test_submit_to_an_unknown_service_is_service_not_found(topchef, server):
    with pytest.raises(ServiceNotFound):
        topchef.submit(str(uuid.uuid4()), {"value": 1})
    assert server.jobs() == []


def test_job_returns_the_job_as_the_server_has_it(topchef, service):
    job = topchef.submit(service, {"value": 3})
    topchef.connection.update_job(job, WORKING)
    assert topchef.job(job).status == WORKING
    assert topchef.job(job.id).status == WORKING


def test_jobs_lists_the_jobs_of_a_service_oldest_first(topchef, service):
    submitted = [topchef.submit(service, {"value": value}) for value in (1, 2, 3)]
    assert [job.id for job in topchef.jobs(service)] == [job.id for job in submitted]


# --- waiting ------------------------------------------------------------------------------

def test_wait_returns_the_result_of_a_finished_job(topchef, service):
    job = topchef.submit(service, {"value": 3})
    topchef.connection.update_job(job, COMPLETED, {"value": 4})
    assert topchef.wait(job, timeout=5, **FAST_POLL) == {"value": 4}


def test_wait_polls_until_the_job_finishes(topchef, service, server):
    job = topchef.submit(service, {"value": 3})
    thread, outcome = in_background(lambda: topchef.wait(job, timeout=10, **FAST_POLL))
    polls = server.request_count
    wait_until(lambda: server.request_count >= polls + 2)  # it has polled at least twice
    assert outcome == []
    with Connection(server.url, timeout=TEST_TIMEOUT) as worker:
        worker.update_job(worker.get_job(job.id), COMPLETED, {"value": 4})
    thread.join(10)
    assert outcome == [{"value": 4}]


def test_wait_raises_job_failed_for_a_job_that_failed_with_a_report(topchef):
    service = topchef.register_service("Open", "any result", ADD_ONE_REGISTRATION_SCHEMA)
    job = topchef.submit(service, {"value": 3})
    topchef.connection.fail_job(job, ERROR_REPORT)
    with pytest.raises(JobFailed) as caught:
        topchef.wait(job, timeout=5, **FAST_POLL)
    assert caught.value.job.id == job.id
    assert "job %s failed: ValueError: cannot add one" % job.id in str(caught.value)


@ONLY_2017
def test_wait_raises_job_failed_for_a_2017_error_without_a_report(topchef, service):
    job = topchef.submit(service, {"value": 3})
    topchef.connection.update_job(job, ERROR)
    with pytest.raises(JobFailed) as caught:
        topchef.wait(job, timeout=5, **FAST_POLL)
    assert (caught.value.job.status, str(caught.value)) == (
        ERROR, "job %s ended with status ERROR" % job.id)


def test_wait_timeout_names_the_job_and_its_last_status(topchef, service):
    job = topchef.submit(service, {"value": 3})
    topchef.connection.update_job(job, WORKING)
    with pytest.raises(JobWaitTimeout) as caught:
        topchef.wait(job, timeout=0.05, **FAST_POLL)
    assert "%s (last status WORKING)" % job.id in str(caught.value)
    assert [(pending.id, pending.status) for pending in caught.value.jobs] == [(job.id, WORKING)]


def test_wait_timeout_for_jobs_never_picked_up_asks_whether_a_worker_runs(topchef, service):
    job = topchef.submit(service, {"value": 3})
    with pytest.raises(JobWaitTimeout) as caught:
        topchef.wait(job, timeout=0.05, **FAST_POLL)
    assert "%s (last status REGISTERED)" % job.id in str(caught.value)
    assert "is a worker running for service %s?" % service.id in str(caught.value)


def test_wait_all_returns_the_finished_jobs_in_the_order_given(topchef, service):
    jobs = [topchef.submit(service, {"value": value}) for value in (1, 2, 3)]
    for job in (jobs[2], jobs[0], jobs[1]):
        topchef.connection.update_job(job, COMPLETED, {"value": job.parameters["value"] + 1})
    given = [jobs[1], jobs[2], jobs[0]]
    finished = topchef.wait_all(given, timeout=5, **FAST_POLL)
    assert [(job.id, job.status, job.result) for job in finished] == [
        (job.id, COMPLETED, {"value": job.parameters["value"] + 1}) for job in given]


def test_wait_all_polls_each_service_with_one_request(topchef, service, server):
    other = topchef.register_service("Other", "other", ADD_ONE_REGISTRATION_SCHEMA)
    jobs = [topchef.submit(service, {"value": value}) for value in (1, 2, 3)]
    jobs += [topchef.submit(other, {"value": value}) for value in (4, 5)]
    before = server.request_count
    with pytest.raises(JobWaitTimeout) as caught:
        topchef.wait_all(jobs, timeout=0)  # exactly one poll
    assert server.request_count - before == 2
    assert sorted(job.id for job in caught.value.jobs) == sorted(job.id for job in jobs)


def test_wait_all_accepts_job_ids_in_any_form(topchef, service):
    jobs = [topchef.submit(service, {"value": value}) for value in (1, 2)]
    for job in jobs:
        topchef.connection.update_job(job, COMPLETED, {"value": 0})
    finished = topchef.wait_all([jobs[0].id.upper(), uuid.UUID(jobs[1].id)], timeout=5,
                                **FAST_POLL)
    assert [job.id for job in finished] == [job.id for job in jobs]


def test_wait_all_accepts_an_iterator_of_jobs(topchef, service):
    jobs = [topchef.submit(service, {"value": value}) for value in (1, 2)]
    for job in jobs:
        topchef.connection.update_job(job, COMPLETED, {"value": 0})
    finished = topchef.wait_all(iter(jobs), timeout=5, **FAST_POLL)
    assert [job.id for job in finished] == [job.id for job in jobs]


def test_wait_all_returns_failed_jobs_unless_asked_to_raise(topchef, service):
    jobs = [topchef.submit(service, {"value": value}) for value in (1, 2)]
    topchef.connection.update_job(jobs[0], COMPLETED, {"value": 2})
    topchef.connection.fail_job(jobs[1], ERROR_REPORT)
    finished = topchef.wait_all(jobs, timeout=5, **FAST_POLL)
    assert [job.is_failed for job in finished] == [False, True]
    with pytest.raises(JobFailed) as caught:
        topchef.wait_all(jobs, timeout=5, raise_on_failure=True, **FAST_POLL)
    assert caught.value.job.id == jobs[1].id


def test_wait_all_of_jobs_known_only_by_id_asks_for_each(topchef, service, server):
    jobs = [topchef.submit(service, {"value": value}) for value in (1, 2)]
    for job in jobs:
        topchef.connection.update_job(job, COMPLETED, {"value": 0})
    before = server.request_count
    finished = topchef.wait_all([job.id for job in jobs], timeout=5, **FAST_POLL)
    assert [(job.id, job.result) for job in finished] == [(job.id, {"value": 0}) for job in jobs]
    assert server.request_count - before == 2


def test_a_job_object_that_is_finished_is_still_asked_for(topchef, service):
    job = topchef.submit(service, {"value": 3})
    stale = Job(job.id, status=COMPLETED, result={"value": 99}, service_id=service.id)
    topchef.connection.update_job(job, COMPLETED, {"value": 4})
    assert topchef.wait(stale, timeout=5, **FAST_POLL) == {"value": 4}
