"""The processing of one job: results JSON cannot carry, huge or refused error reports,
jobs the server refuses to update, and the probe for another worker."""
import datetime
import logging

import pytest
import six

from topchef_client import COMPLETED, ERROR, Client, TopChef
from topchef_client import defaults, polling
from topchef_client.testing import LocalServer

from jobs import ANY_OBJECT_SCHEMA, LENIENT_RESULT_SCHEMA
from support import jobs_by_status, messages_naming, wait_until


class ReturnsWhatItIsTold(Client):
    """Returns ``{"value": <the Python value named by the parameter "kind">}``."""

    VALUES = {"set": set([1]), "datetime": datetime.datetime(2026, 12, 1),
              "nan": float("nan"), "inf": float("inf"), "bytes": b"\xff\x00"}

    def run(self, parameters):
        if parameters["kind"] == "good":
            return {"value": 1}
        return {"value": self.VALUES[parameters["kind"]]}


BAD_KINDS = ["set", "datetime", "nan", "inf"] + ([] if six.PY2 else ["bytes"])


def test_results_json_cannot_carry_fail_their_jobs_with_a_clear_message_and_no_backoff(
        server, topchef, register_worker, caplog):
    worker = register_worker(ReturnsWhatItIsTold, ANY_OBJECT_SCHEMA, LENIENT_RESULT_SCHEMA,
                             max_failure_backoff=5.0, failure_backoff=1.0)
    jobs = dict((kind, topchef.submit(worker.id, {"kind": kind})) for kind in BAD_KINDS)
    good = topchef.submit(worker.id, {"kind": "good"})

    stats = worker.burst()

    assert (stats.jobs_failed, stats.jobs_completed) == (len(BAD_KINDS), 1)
    for kind, job in jobs.items():
        failed = topchef.job(job)
        assert failed.is_failed, kind
        assert failed.error["type"] == "ProcessingError"
        assert "JSON cannot encode" in failed.error["message"]
        assert "at value" in failed.error["message"], failed.error["message"]
    assert topchef.job(good).result == {"value": 1}
    # Each bad result is one job's failure, not a failure of processing that
    # would make the thread back off (1 s, then 2, 4...): the burst was quick.
    assert worker.healthy
    assert not messages_naming(caplog, "processing failed")


class RaisesHugely(Client):
    def run(self, parameters):
        raise ValueError("x" * parameters["size"])


def test_a_huge_error_is_reported_and_logged_cut_to_a_bounded_size(
        server, topchef, register_worker, caplog):
    caplog.set_level(logging.INFO)
    worker = register_worker(RaisesHugely, ANY_OBJECT_SCHEMA, LENIENT_RESULT_SCHEMA)
    jobs = [topchef.submit(worker.id, {"size": 5 * 1024 * 1024}) for _ in range(3)]

    stats = worker.burst()

    assert stats.jobs_failed == 3
    for job in jobs:
        error = topchef.job(job).error
        assert error["type"] == "ValueError"
        assert len(error["message"]) < defaults.MAX_ERROR_MESSAGE + 100
        assert "characters cut" in error["message"]
        assert len(error["traceback"]) < (defaults.MAX_ERROR_MESSAGE +
                                          defaults.MAX_ERROR_TRACEBACK + 500)
    logged = sum(len(record.getMessage()) for record in caplog.records)
    assert logged < 3 * 20000, logged  # 15 MB of messages would have been logged before


@pytest.fixture
def small_bodied_server(generation):
    """A server that refuses request bodies over 3,000 bytes, as a strict proxy would."""
    server = LocalServer(generation=generation, max_body_size=3000).start()
    yield server
    server.stop()


class RaisesWithATraceback(Client):
    def run(self, parameters):
        return self.deeper(parameters["depth"])

    def deeper(self, depth):
        if depth:
            return self.deeper(depth - 1)
        raise RuntimeError("y" * 1500)


def test_an_error_report_the_server_refuses_is_sent_again_cut_short(small_bodied_server):
    with TopChef(small_bodied_server.url) as topchef:
        worker = RaisesWithATraceback.register_service(
            small_bodied_server.url, "Deep", "fails deep down", ANY_OBJECT_SCHEMA,
            LENIENT_RESULT_SCHEMA, poll_interval=0.01, max_poll_interval=0.05,
            failure_backoff=0.01, max_failure_backoff=0.05)
        job = topchef.submit(worker.id, {"depth": 30})
        try:
            stats = worker.burst()
        finally:
            worker.connection.close()
        failed = topchef.job(job)
    assert stats.jobs_failed == 1
    assert failed.status == (ERROR if small_bodied_server.generation == "2017" else COMPLETED)
    assert failed.error["type"] == "RuntimeError"
    assert "cut short: the server refused the whole report" in failed.error["message"]
    assert "traceback" not in failed.error


def test_a_2016_job_whose_claim_the_server_refuses_is_reported_once_and_not_taken_again(
        servers, caplog):
    server = servers("2016")
    server.reset()
    # Just under the server's 1 MiB: it can be submitted, but a 2016 claim
    # sends the parameters back with more fields, and is refused (413).
    blob = "z" * (server.max_body_size - 40)
    with TopChef(server.url) as topchef:
        service = topchef.register_service("Big", "big parameters", ANY_OBJECT_SCHEMA)
        job = topchef.submit(service, {"blob": blob})
        small = topchef.submit(service, {"blob": "small"})

        class MeasuresTheBlob(Client):
            def run(self, parameters):
                return {"length": len(parameters["blob"])}

        worker = MeasuresTheBlob(server.url, service.id, poll_interval=0.01, max_poll_interval=0.05,
                      failure_backoff=0.01, max_failure_backoff=0.05)
        try:
            stats = worker.burst()
        finally:
            worker.connection.close()
        assert topchef.job(small).result == {"length": 5}
    assert (stats.jobs_failed, stats.jobs_completed) == (1, 1)
    assert jobs_by_status(server, service.id)["REGISTERED"][0]["id"] == job.id
    assert [message for message in messages_naming(caplog, "will not take it again",
                                                   logging.ERROR) if job.id in message]


def test_a_lone_worker_probes_its_first_jobs_then_one_in_twenty():
    contention = polling.Contention()
    probes = [contention.should_recheck() for _ in range(60)]
    assert probes[:polling.PROBE_FIRST] == [True] * polling.PROBE_FIRST
    later = [number + 1 for number, probed in enumerate(probes)
             if probed and number >= polling.PROBE_FIRST]
    assert later == [20, 40, 60]


def test_after_a_sign_of_another_worker_every_job_is_probed_for_a_while(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(polling, "monotonic", lambda: now[0])
    contention = polling.Contention()
    for _ in range(polling.PROBE_FIRST):
        contention.should_recheck()

    contention.saw_another_worker()

    assert all(contention.should_recheck() for _ in range(15))
    now[0] += polling.CONTENTION_MEMORY + 1
    assert not all(contention.should_recheck() for _ in range(15))


class Echo(Client):
    def run(self, parameters):
        return {"value": parameters["value"]}


def test_a_2017_job_taken_by_another_worker_before_its_claim_is_skipped_and_noticed(
        servers, monkeypatch):
    """The probe reads the job; someone else has it: skip it, and probe every job from then on."""
    server = servers("2017")
    server.reset()
    with TopChef(server.url) as topchef:
        service = topchef.register_service("Shared", "two workers", ANY_OBJECT_SCHEMA)
        taken = topchef.submit(service, {"value": 1})
        free = topchef.submit(service, {"value": 2})
        worker = Echo(server.url, service.id, poll_interval=0.01, max_poll_interval=0.05)
        original = worker.connection.job_to_run

        def claimed_elsewhere_first(job, recheck=False):
            if job.id == taken.id:  # another worker claims it just before our probe
                topchef.connection.update_job(job, "WORKING")
            return original(job, recheck)

        monkeypatch.setattr(worker.connection, "job_to_run", claimed_elsewhere_first)
        try:
            stats = worker.burst()
        finally:
            worker.connection.close()
        assert topchef.job(free).status == COMPLETED
        assert topchef.job(taken).status == "WORKING"  # left to the other worker
    assert stats.jobs_completed == 1
    assert worker.processor.contention.should_recheck()  # it remembers the other worker


def test_every_job_is_reported_exactly_once_while_runs_fail_in_every_way(
        server, topchef, register_worker):
    worker = register_worker(ReturnsWhatItIsTold, ANY_OBJECT_SCHEMA, LENIENT_RESULT_SCHEMA,
                             threads=3)
    kinds = (BAD_KINDS + ["good"]) * 5
    for kind in kinds:
        topchef.submit(worker.id, {"kind": kind})
    worker.start()
    wait_until(lambda: worker.stats.jobs_failed + worker.stats.jobs_completed == len(kinds))
    assert worker.stop(timeout=10)
    assert (worker.stats.jobs_failed, worker.stats.jobs_completed) == (
        len(BAD_KINDS) * 5, 5)
    assert set(jobs_by_status(server, worker.id)) <= {COMPLETED, ERROR}
