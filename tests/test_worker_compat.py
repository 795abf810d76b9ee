"""The names scripts written for the original TopChef client still use."""
import pytest

from topchef_client import COMPLETED, ProcessingError, TopChef, ValidationError
from topchef_client.testing import LocalServer
from topchef_client.testing.proxy import Delay

from jobs import ADD_ONE_REGISTRATION_SCHEMA, ADD_ONE_RESULT_SCHEMA, AddOne, Raising
from support import wait_until

#: What a 2016 server keeps of a result schema, whatever it was given.
SERVER_2016_RESULT_SCHEMA = {"type": "object"}


def test_new_service_registers_a_service_and_returns_a_worker_bound_to_it(
        topchef, register_worker):
    worker = register_worker(AddOne, name="NewService", method="new_service")

    assert isinstance(worker, AddOne)
    assert topchef.service(worker.id).name == "NewService"
    assert worker.service_id == worker.id


def test_run_iteration_runs_one_queued_job_and_returns_it(topchef, service, make_worker):
    job = topchef.submit(service, {"value": 1})
    worker = make_worker(AddOne)

    done = worker.run_iteration()

    assert (done.id, done.status, done.result) == (job.id, COMPLETED, {"value": 2})
    assert worker.run_iteration() is None


def test_run_iteration_raises_processing_error_for_a_failed_job_and_reports_it(
        topchef, service, make_worker):
    job = topchef.submit(service, {"value": 1})
    worker = make_worker(Raising)

    with pytest.raises(ProcessingError) as raised:
        worker.run_iteration()

    assert job.id in str(raised.value)
    assert topchef.job(job).is_failed
    assert worker.run_iteration() is None  # it is not run again


def test_start_without_polling_runs_jobs_but_never_checks_in(clocked_server, make_worker):
    with TopChef(clocked_server.url) as topchef:
        service = topchef.register_service("AddOne", "Adds one", ADD_ONE_REGISTRATION_SCHEMA,
                                           ADD_ONE_RESULT_SCHEMA)
        clocked_server.clock.advance(31)
        assert topchef.service(service).has_timed_out
        worker = make_worker(AddOne, address=clocked_server.url, service_id=service.id,
                             heartbeat_interval=0.01)

        worker.start(should_poll=False)
        job = topchef.submit(service, {"value": 1})

        assert topchef.wait(job, timeout=10, poll_interval=0.01) == {"value": 2}
        assert worker.heartbeat_thread is None and worker.polling_thread is None
        assert worker.stats.heartbeats_sent == 0
        assert topchef.service(service).has_timed_out  # nobody checked in
        assert worker.stop(timeout=10)


@pytest.mark.parametrize("generation", ["2017"])  # where the goodbye is a request
def test_a_restart_without_polling_says_no_goodbye_for_the_run_before(
        generation, proxy, topchef, service, make_worker):
    worker = make_worker(AddOne, address=proxy.url).start()
    wait_until(lambda: topchef.service(service).is_available)
    assert worker.stop(timeout=10)
    assert topchef.service(service).is_available is False
    # Mark it available by hand: a goodbye from the next run would undo it.
    topchef.connection.set_availability(service.id, True)
    service_writes = proxy.add_rule(Delay(0), method="PATCH", path=r"^/services/")

    worker.start(should_poll=False)
    assert worker.stop(timeout=10)

    assert service_writes.hits == 0
    assert topchef.service(service).is_available is True


def test_the_timeout_keyword_is_the_heartbeat_interval(make_worker):
    worker = make_worker(AddOne, timeout=0.005)

    assert worker.timeout == worker.heartbeat_interval == 0.005
    worker.start()
    # The default interval would be ten seconds.
    wait_until(lambda: worker.stats.heartbeats_sent >= 5, timeout=5)


def test_the_heartbeat_interval_is_a_third_of_the_service_timeout_by_default(
        generation, register_worker):
    worker = register_worker(AddOne, service_timeout=6)

    # A 2016 server fixes the timeout at 30 s; a 2017 one takes the 6 s asked for.
    assert worker.heartbeat_interval == (10.0 if generation == "2016" else 2.0)
    assert worker.timeout == worker.heartbeat_interval


def test_the_schema_properties_give_the_services_schemas_fetched_once(
        generation, server, make_worker):
    worker = make_worker(AddOne)

    registration_schema = worker.job_registration_schema
    requests_after_first = server.request_count
    result_schema = worker.job_result_schema
    assert worker.job_registration_schema == registration_schema

    assert registration_schema == ADD_ONE_REGISTRATION_SCHEMA
    assert result_schema == (SERVER_2016_RESULT_SCHEMA if generation == "2016"
                             else ADD_ONE_RESULT_SCHEMA)
    assert server.request_count == requests_after_first


def test_a_worker_from_register_service_has_the_schemas_it_asked_for_without_asking(
        server, register_worker):
    worker = register_worker(AddOne)
    requests_before = server.request_count

    assert worker.job_registration_schema == ADD_ONE_REGISTRATION_SCHEMA
    assert worker.job_result_schema == ADD_ONE_RESULT_SCHEMA
    assert server.request_count == requests_before


def test_validate_schema_checks_locally_and_raises_validation_error(server, make_worker):
    worker = make_worker(AddOne)
    requests_before = server.request_count

    worker.validate_schema({"value": 3}, ADD_ONE_REGISTRATION_SCHEMA)
    with pytest.raises(ValidationError):
        worker.validate_schema({"value": 11}, ADD_ONE_REGISTRATION_SCHEMA)
    assert server.request_count == requests_before


def test_is_server_alive_says_whether_the_server_answers_and_never_raises(
        generation, make_worker, service):
    gone = LocalServer(generation=generation).start()
    address = gone.url
    gone.stop()

    assert make_worker(AddOne).is_server_alive is True
    assert make_worker(AddOne, address=address, retries=0).is_server_alive is False


def test_polling_thread_and_processing_thread_are_the_workers_threads(make_worker):
    worker = make_worker(AddOne, threads=2)
    assert worker.polling_thread is None and worker.processing_thread is None

    worker.start()

    assert worker.polling_thread is worker.heartbeat_thread
    assert worker.processing_thread is worker.processing_threads[0]
    assert worker.polling_thread.daemon and worker.polling_thread.is_alive()
    assert worker.processing_thread.daemon and worker.processing_thread.is_alive()
