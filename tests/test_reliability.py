"""Reliability scenarios: a batch of jobs, a fault in the middle, the same ending.

Each scenario submits a batch of jobs to a LocalServer of each generation,
runs a worker behind a FaultProxy, breaks something while the batch is
under way, stops the worker gracefully and then checks one invariant
(``assert_every_job_ran_once``): every job ended COMPLETED (or failed, for
the jobs the worker fails on purpose), none stayed WORKING, each set of
parameters ran exactly once, and the worker's threads were alive and
healthy again before the stop.

test_worker_resilience.py proves each single fault against one job with
automatic retries off; here the worker keeps the default number of retries
(with millisecond pauses, ``FAST_RETRIES``, so that a scenario takes about
a second) and faults meet whole batches. The 503 storm keeps the default
retry pauses too, and runs once for both generations at the same time.

Two scenarios of job control close the module, both marked slow: a run
hung in ``time.sleep(60)`` under a two-second time limit in the middle of a
batch, and a worker process killed with SIGKILL in the middle of a batch
and started again.
"""
import collections
import io
import logging
import os
import signal
import time

import pytest

from topchef_client import (COMPLETED, ERROR, REGISTERED, WORKING, NetworkError, ServerError,
                            ServiceNotFound, TopChef)
from topchef_client import defaults
from topchef_client.api import make_retry
from topchef_client.testing import LocalServer
from topchef_client.testing.proxy import FaultProxy, Hang, Reset, Respond

from jobs import (ADD_ONE_RESULT_SCHEMA, ANY_OBJECT_SCHEMA, COUNTER_REGISTRATION_SCHEMA,
                  Controlled, Journal, Recording, SlowRecording, SlowRecordingWithFailures)
from support import (job_update_method, jobs_by_status, messages_naming, submit_batch,
                     threads_alive, unfinished_jobs, wait_until)

GENERATIONS = ("2016", "2017")
#: The default number of retries, with pauses of milliseconds instead of seconds.
FAST_RETRIES = make_retry(defaults.DEFAULT_RETRIES, backoff_factor=0.005)
#: Short enough that a hung or failing heartbeat shows within a scenario.
HEARTBEAT_INTERVAL = 0.1
#: How long the 503 storm lasts, in seconds.
STORM_SECONDS = 30
HTML_PAGE = (b"<!DOCTYPE html><html><head><title>Maintenance</title></head>"
             b"<body><h1>Back soon</h1></body></html>")


# The shared ending

def failed_as_reported(job, generation):
    """Whether the server holds ``job`` (a ``LocalServer.jobs()`` dict) as failed."""
    if generation == "2016":  # no ERROR status: the error report is the sign
        return job["status"] == COMPLETED and "error" in (job["result"] or {})
    return job["status"] == ERROR


def assert_every_job_ran_once(server, service_id, values, worker, failing=(),
                              earlier_runs=None):
    """The invariant every scenario ends with.

    Waits for the batch to finish and for the worker to be healthy with its
    threads alive, stops it gracefully, then checks that each value in
    ``values`` ran exactly once (counting ``earlier_runs`` of another
    process) and that its job ended COMPLETED with the right result, or
    failed if it is in ``failing``, and that no job is WORKING.
    """
    wait_until(lambda: not unfinished_jobs(server, service_id), timeout=30,
               message="jobs unfinished after 30 s: %r" % (unfinished_jobs(server, service_id),))
    wait_until(lambda: worker.healthy and threads_alive(worker), timeout=15,
               message="the worker did not recover: last error %r" % (worker.last_error,))

    assert worker.stop(timeout=10)

    jobs = server.jobs(service_id)
    assert WORKING not in [job["status"] for job in jobs]
    assert sorted(job["parameters"]["value"] for job in jobs) == sorted(values)
    for job in jobs:
        value = job["parameters"]["value"]
        if value in failing:
            assert failed_as_reported(job, server.generation), job
        else:
            assert job["status"] == COMPLETED, job
            assert job["result"] == {"value": value + 1}, job
    runs = collections.Counter(worker.runs)
    runs.update(earlier_runs or {})
    assert runs == collections.Counter(values)


def scenario_worker(make_worker, proxy, service, worker_class=SlowRecording, **options):
    """A started worker for ``service`` behind ``proxy``, with FAST_RETRIES."""
    settings = dict(address=proxy.url, service_id=service.id, retries=FAST_RETRIES)
    settings.update(options)
    return make_worker(worker_class, **settings).start()


# The server is unreachable when the worker starts

def test_a_worker_started_while_its_server_is_unreachable_runs_the_batch_once_it_is_back(
        server, proxy, topchef, counting_service, make_worker):
    values = submit_batch(topchef, counting_service, 30)
    proxy.go_down()

    worker = scenario_worker(make_worker, proxy, counting_service)
    # It starts all the same, and tries: first to recover abandoned jobs, which
    # it must do before it polls or beats.
    wait_until(lambda: not worker.healthy and worker.last_error is not None)

    assert not worker.healthy
    assert isinstance(worker.last_error, NetworkError)
    assert threads_alive(worker)
    assert len(unfinished_jobs(server, counting_service.id)) == len(values)
    proxy.come_up()
    assert_every_job_ran_once(server, counting_service.id, values, worker)


# The server dies and comes back on its database

@pytest.fixture
def database_server(tmpdir, generation):
    """A LocalServer on a database file, which survives stop() and start()."""
    server = LocalServer(generation=generation, db=str(tmpdir.join("topchef.db"))).start()
    yield server
    server.stop()


def test_a_server_killed_and_restarted_on_its_database_mid_batch_loses_and_doubles_no_job(
        database_server, make_worker):
    with TopChef(database_server.url) as topchef:
        service = topchef.register_service("Counter", "Adds one", COUNTER_REGISTRATION_SCHEMA,
                                           ADD_ONE_RESULT_SCHEMA)
        values = submit_batch(topchef, service, 40)
    with FaultProxy(database_server.url) as proxy:
        worker = scenario_worker(make_worker, proxy, service, threads=2)
        wait_until(lambda: worker.stats.jobs_completed >= 8)

        database_server.stop()
        wait_until(lambda: not worker.healthy)
        assert isinstance(worker.last_error, (NetworkError, ServerError))
        assert threads_alive(worker)
        assert sum(worker.runs.values()) < len(values)  # the server died mid-batch
        database_server.start()

        assert_every_job_ran_once(database_server, service.id, values, worker)


# Connections reset while a job's status or result is written

def test_connections_reset_on_job_updates_before_and_after_the_server_acted_change_nothing(
        server, proxy, topchef, counting_service, make_worker):
    values = submit_batch(topchef, counting_service, 30)
    failing = [value for value in values if value % SlowRecordingWithFailures.fail_every == 0]
    worker = scenario_worker(make_worker, proxy, counting_service, SlowRecordingWithFailures)
    wait_until(lambda: worker.stats.jobs_completed >= 5)

    update = job_update_method(server.generation)
    resets = [proxy.add_rule(Reset(after_forwarding=True), method=update, path=r"^/jobs/",
                             times=3),
              proxy.add_rule(Reset(), method=update, path=r"^/jobs/", times=3)]
    # Only a job under way is updated: each hit came in the middle of the batch.
    wait_until(lambda: all(rule.hits == 3 for rule in resets))

    assert_every_job_ran_once(server, counting_service.id, values, worker, failing=failing)
    assert worker.stats.jobs_failed == len(failing)


# A heartbeat that never gets an answer

def test_jobs_keep_flowing_while_the_heartbeat_hangs(
        server, proxy, topchef, counting_service, make_worker):
    values = submit_batch(topchef, counting_service, 40)
    worker = scenario_worker(make_worker, proxy, counting_service,
                             heartbeat_interval=HEARTBEAT_INTERVAL)
    wait_until(lambda: worker.stats.jobs_completed >= 5 and worker.stats.heartbeats_sent >= 2)

    hang = proxy.add_rule(Hang(), method="PATCH", path=r"^/services/")
    wait_until(lambda: hang.hits >= 1)
    sent, completed = worker.stats.heartbeats_sent, worker.stats.jobs_completed
    wait_until(lambda: worker.stats.jobs_completed >= completed + 5)
    wait_until(lambda: worker.stats.heartbeats_failed >= 1)

    assert worker.stats.heartbeats_sent == sent  # the heartbeat was stuck all along
    assert threads_alive(worker)
    hang.remove()
    assert_every_job_ran_once(server, counting_service.id, values, worker)
    assert worker.stats.heartbeats_sent > sent


# A 503 storm, on both generations at once

class StormRig(object):
    """A server of one generation, a proxy, a batch of jobs and a worker for them."""

    def __init__(self, server, batch_size, worker_settings):
        self.server = server
        self.worker_settings = worker_settings
        self.proxy = FaultProxy(server.url).start()
        self.worker = None
        with TopChef(server.url, timeout=worker_settings["request_timeout"]) as topchef:
            self.service = topchef.register_service(
                "Counter", "Adds one", COUNTER_REGISTRATION_SCHEMA, ADD_ONE_RESULT_SCHEMA)
            self.values = submit_batch(topchef, self.service, batch_size)

    def start_worker(self):
        # The default retries, default pauses included.
        settings = dict(self.worker_settings, heartbeat_interval=HEARTBEAT_INTERVAL)
        self.worker = SlowRecording(self.proxy.url, self.service.id, **settings).start()

    def close(self):
        if self.worker is not None:
            if self.worker.is_running and not self.worker.stop(timeout=10):
                self.worker.stop_now()
            self.worker.connection.close()
        self.proxy.stop()


@pytest.fixture
def storm_rigs(servers, fast_worker_settings):
    """One StormRig per generation."""
    rigs = []
    for generation in GENERATIONS:
        server = servers(generation)
        server.reset()
        rigs.append(StormRig(server, 60, fast_worker_settings))
    yield rigs
    for rig in rigs:
        rig.close()


@pytest.mark.slow
def test_a_30_second_503_storm_on_every_request_is_ridden_out_by_both_generations(
        storm_rigs):
    for rig in storm_rigs:
        rig.start_worker()
    for rig in storm_rigs:
        wait_until(lambda: rig.worker.stats.jobs_completed >= 5)

    storms = [rig.proxy.add_rule(Respond(503, HTML_PAGE, content_type="text/html"),
                                 seconds=STORM_SECONDS) for rig in storm_rigs]
    for rig in storm_rigs:
        wait_until(lambda: not rig.worker.healthy and rig.worker.stats.heartbeats_failed >= 1,
                   timeout=STORM_SECONDS / 2)
        assert isinstance(rig.worker.last_error, ServerError)
        assert threads_alive(rig.worker)
    unfinished_after_storm = []
    for storm, rig in zip(storms, storm_rigs):
        wait_until(lambda: storm.expired, timeout=STORM_SECONDS + 10)
        unfinished_after_storm.append(len(unfinished_jobs(rig.server, rig.service.id)))

    assert all(unfinished_after_storm), "the storm should have caught every batch midway"
    for storm, rig in zip(storms, storm_rigs):
        assert storm.hits > 0
        assert threads_alive(rig.worker)
        assert_every_job_ran_once(rig.server, rig.service.id, rig.values, rig.worker)


# HTML and empty bodies where JSON belongs

def test_html_and_empty_answers_to_polls_and_job_updates_are_retried_until_the_batch_is_done(
        server, proxy, topchef, counting_service, make_worker):
    values = submit_batch(topchef, counting_service, 30)
    worker = scenario_worker(make_worker, proxy, counting_service)
    wait_until(lambda: worker.stats.jobs_completed >= 5)

    update = job_update_method(server.generation)
    faults = []
    for method, path in (("GET", r"/queue$"), (update, r"^/jobs/"), ("GET", r"^/jobs/")):
        faults.append(proxy.add_rule(Respond(200, HTML_PAGE, content_type="text/html"),
                                     method=method, path=path, times=2))
        faults.append(proxy.add_rule(Respond(200, b"", content_type="application/json"),
                                     method=method, path=path, times=2))
    # 2017 workers never fetch a job (GET /jobs/<id>): the queue has the parameters.
    # Only a job under way is fetched or updated: those faults came mid-batch.
    expected = faults if server.generation == "2016" else faults[:4]
    wait_until(lambda: all(rule.hits == 2 for rule in expected))
    # The proxy counts a hit as it answers; the worker counts the failed poll
    # once it has read that answer, a moment later.
    wait_until(lambda: worker.stats.polls_failed >= 4)

    assert_every_job_ran_once(server, counting_service.id, values, worker)


# The service vanishes from under its worker

def test_a_service_deleted_mid_batch_leaves_its_worker_alive_and_its_neighbour_unharmed(
        server, proxy, topchef, counting_service, make_worker, caplog):
    neighbour = topchef.register_service("Neighbour", "Adds one", COUNTER_REGISTRATION_SCHEMA,
                                         ADD_ONE_RESULT_SCHEMA)
    doomed_values = submit_batch(topchef, counting_service, 30)
    values = submit_batch(topchef, neighbour, 30)
    doomed = scenario_worker(make_worker, proxy, counting_service,
                             heartbeat_interval=HEARTBEAT_INTERVAL)
    worker = scenario_worker(make_worker, proxy, neighbour,
                             heartbeat_interval=HEARTBEAT_INTERVAL)
    wait_until(lambda: doomed.stats.jobs_completed >= 5)

    assert server.delete_service(counting_service.id)
    failures = (doomed.stats.heartbeats_failed, doomed.stats.polls_failed)
    wait_until(lambda: doomed.stats.heartbeats_failed >= failures[0] + 2 and
               doomed.stats.polls_failed >= failures[1] + 2)

    assert threads_alive(doomed)
    assert isinstance(doomed.last_error, ServiceNotFound)
    assert messages_naming(caplog, counting_service.id, logging.WARNING)
    assert doomed.stats.jobs_completed < len(doomed_values)  # deleted mid-batch
    assert max(doomed.runs.values()) == 1
    assert set(doomed.runs) <= set(doomed_values)
    assert server.jobs(counting_service.id) == []
    assert doomed.stop(timeout=10)
    assert not threads_alive(doomed)
    assert_every_job_ran_once(server, neighbour.id, values, worker)
    assert WORKING not in [job["status"] for job in server.jobs()]


# SIGTERM and Ctrl-C in the middle of a batch, in a real process

SIGNAL_SCRIPT = """
import logging
import os
import signal
import time

from topchef_client import Client

logging.basicConfig(level=logging.INFO, format="%%(levelname)s %%(name)s: %%(message)s")
RUNS, HOLD, HELD, RELEASE = %(runs)r, %(hold)r, %(held)r, %(release)r


class RecordsRuns(Client):
    def run(self, parameters):
        with open(RUNS, "a") as runs:
            runs.write("%%d\\n" %% parameters["value"])
        if os.path.exists(HOLD):
            # serve_forever() handles both signals from now on.
            while signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
                time.sleep(0.01)
            with open(HELD + ".part", "w") as held:
                held.write("%%d" %% parameters["value"])
            os.rename(HELD + ".part", HELD)
            while not os.path.exists(RELEASE):
                time.sleep(0.01)
        time.sleep(0.01)
        return {"value": parameters["value"] + 1}


worker = RecordsRuns(%(address)r, %(service_id)r, poll_interval=0.01, max_poll_interval=0.05,
                     failure_backoff=0.01, max_failure_backoff=0.05)
print("serve_forever returned %%r" %% (worker.serve_forever(),))
"""

STOP_SIGNALS = [pytest.param(signal.SIGTERM, id="SIGTERM"),
                pytest.param(signal.SIGINT, id="SIGINT")]


def recorded_runs(path):
    """The values a script recorded, one a line (a line still being written is left out)."""
    if not os.path.exists(path):
        return []
    with io.open(path, encoding="ascii") as runs:
        return [int(line) for line in runs.read().split("\n")[:-1]]


@pytest.mark.parametrize("signum", STOP_SIGNALS)
def test_a_stop_signal_mid_batch_finishes_the_running_job_and_another_worker_does_the_rest(
        server, proxy, topchef, counting_service, make_worker, scripts, tmpdir, signum):
    values = submit_batch(topchef, counting_service, 30)
    paths = dict((name, str(tmpdir.join(name))) for name in ("runs", "hold", "held", "release"))
    script = scripts.start(SIGNAL_SCRIPT % dict(paths, address=proxy.url,
                                                service_id=counting_service.id))
    wait_until(lambda: len(recorded_runs(paths["runs"])) >= 5 or not script.running)
    open(paths["hold"], "w").close()
    wait_until(lambda: os.path.exists(paths["held"]) or not script.running)
    assert script.running, script.log()
    with open(paths["held"]) as held:
        held_value = int(held.read())
    running = jobs_by_status(server, counting_service.id)[WORKING]
    assert [job["parameters"]["value"] for job in running] == [held_value]

    script.send_signal(signum)
    script.wait_for_log("signal %d: stopping after the running job" % signum)
    open(paths["release"], "w").close()

    assert script.wait(10) == 0, script.log()
    statuses = jobs_by_status(server, counting_service.id)
    assert WORKING not in statuses
    assert running[0]["id"] in [job["id"] for job in statuses[COMPLETED]]
    assert statuses.get(REGISTERED)  # nothing was taken after the signal
    worker = scenario_worker(make_worker, proxy, counting_service, Recording)
    assert_every_job_ran_once(server, counting_service.id, values, worker,
                              earlier_runs=collections.Counter(recorded_runs(paths["runs"])))


# A run hung past its time limit, in the middle of a batch

#: The issue's time limit for a hung run, in seconds.
HUNG_RUN_LIMIT = 2.0


@pytest.mark.slow
@pytest.mark.parametrize("isolation", ["thread", "process"])
def test_a_run_hung_in_sleep_past_a_2_second_limit_fails_alone_and_the_batch_goes_on(
        server, topchef, register_worker, tmpdir, isolation):
    journal = Journal(str(tmpdir.join("journal")))
    worker = register_worker(Controlled, ANY_OBJECT_SCHEMA, ANY_OBJECT_SCHEMA,
                             journal=journal.path, isolation=isolation,
                             time_limit=HUNG_RUN_LIMIT, threads=2).start()
    hung = topchef.submit(worker.id, {"value": 0, "do": "sleep", "seconds": 60})
    values = list(range(1, 31))
    for value in values:
        topchef.submit(worker.id, {"value": value, "do": "sleep", "seconds": 0.02})
    wait_until(lambda: journal.count("run", 0))
    [began] = [entry.time for entry in journal.entries("run") if entry.value == 0]

    wait_until(lambda: topchef.job(hung).is_failed, timeout=10, interval=0.02)
    late = time.time() - began - HUNG_RUN_LIMIT
    values.append(31)
    after = topchef.submit(worker.id, {"value": 31})

    assert 0 <= late < 1.5, "reported %.2f s after its limit" % late
    assert topchef.wait(after, timeout=10)["value"] == 32
    wait_until(lambda: not unfinished_jobs(server, worker.id), timeout=30)
    wait_until(lambda: worker.healthy and threads_alive(worker), timeout=15)
    assert len(worker.processing_threads) == 2
    assert worker.stop(timeout=10)
    jobs = server.jobs(worker.id)
    assert WORKING not in [job["status"] for job in jobs]
    for job in jobs:
        value = job["parameters"]["value"]
        assert journal.count("run", value) == 1, job
        if value == 0:
            assert failed_as_reported(job, server.generation), job
            assert job["result"]["error"]["type"] == "TimeLimitExceeded", job
        else:
            assert job["status"] == COMPLETED and job["result"]["value"] == value + 1, job
    assert worker.stats.threads_abandoned == (1 if isolation == "thread" else 0)


# kill -9 of a worker process in the middle of a batch, and a restart

KILLED_SCRIPT = """
import os
import time

from topchef_client import Client

DONE, HOLD, HELD = %(done)r, %(hold)r, %(held)r


class RecordsRuns(Client):
    def run(self, parameters):
        value = parameters["value"]
        if os.path.exists(HOLD):
            with open(HELD + ".part", "w") as held:
                held.write("%%d" %% value)
            os.rename(HELD + ".part", HELD)
            time.sleep(60)
        time.sleep(0.01)
        with open(DONE, "a") as done:
            done.write("%%d\\n" %% value)
        return {"value": value + 1}


if __name__ == "__main__":
    RecordsRuns(%(address)r, %(service_id)r, poll_interval=0.01, max_poll_interval=0.05,
                isolation=%(isolation)r).serve_forever()
"""


@pytest.mark.slow
@pytest.mark.parametrize("isolation", ["thread", "process"])
def test_a_worker_killed_mid_batch_and_started_again_ends_every_job_once(
        generation, server, clocked_server, make_worker, scripts, tmpdir, isolation):
    # A 2017 service's timeout can be short; a 2016 one is 30 s, so its server's
    # clock is moved past it instead.
    target = clocked_server if generation == "2016" else server
    with TopChef(target.url) as topchef:
        service = topchef.register_service("Counter", "Adds one", COUNTER_REGISTRATION_SCHEMA,
                                           ADD_ONE_RESULT_SCHEMA, service_timeout=1)
        values = submit_batch(topchef, service, 30)
    paths = dict((name, str(tmpdir.join(name))) for name in ("done", "hold", "held"))
    script = scripts.start(KILLED_SCRIPT % dict(paths, address=target.url,
                                                service_id=service.id, isolation=isolation))
    wait_until(lambda: len(recorded_runs(paths["done"])) >= 8 or not script.running)
    open(paths["hold"], "w").close()
    wait_until(lambda: os.path.exists(paths["held"]) or not script.running)
    assert script.running, script.log()
    with open(paths["held"]) as held:
        held_value = int(held.read())
    assert [job["parameters"]["value"] for job in jobs_by_status(target, service.id)[WORKING]] \
        == [held_value]

    script.process.send_signal(signal.SIGKILL)
    assert script.wait(10) == -signal.SIGKILL
    assert len(jobs_by_status(target, service.id)[WORKING]) == 1  # stranded
    if generation == "2016":
        target.clock.advance(31)

    worker = make_worker(Recording, address=target.url, service_id=service.id).start()

    assert_every_job_ran_once(target, service.id, values, worker,
                              earlier_runs=collections.Counter(recorded_runs(paths["done"])))
    assert worker.stats.jobs_recovered == 1
    assert worker.runs[held_value] == 1
