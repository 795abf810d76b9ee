"""Control over the job being run: time limits, process isolation, hooks, retries, fail fast.

Everything runs over real HTTP against the local server of each generation.
The workers are ``jobs.Controlled``, which does what each job's parameters
ask (sleep, spin, crash, ask for a retry...) and writes a ``jobs.Journal``
of its setup(), teardown() and runs, from whichever process they run in.
Recovery of abandoned jobs has its own module, test_recovery.py; the
literal two-second hung run is in test_reliability.py, marked slow.

Limits are a fraction of a second here, and the pause before a run stuck
in C is taken over (``limits.INTERRUPT_GRACE``, one second) is cut to a
fraction of a second where a test waits for it: what is proven is the
mechanism, and the reliability suite proves the real figures.
"""
import os
import signal
import sys
import threading
import time

import pytest

from topchef_client import (COMPLETED, ERROR, REGISTERED, WORKING, Client, NetworkError,
                            ServiceNotFound)
from topchef_client import limits

from jobs import ANY_OBJECT_SCHEMA, AddOne, BlocksInC, Controlled, FlakySetup, Journal
from support import REPO_ROOT, jobs_by_status, threads_alive, wait_until

ISOLATIONS = ["thread", "process"]
#: The time limit of the tests that run past it, in seconds.
LIMIT = 0.3
#: The time limit of a run that spins in pure Python.
BUSY_LIMIT = 0.15
#: INTERRUPT_GRACE in the tests that wait for a take-over.
GRACE = 0.15
#: How long after its limit a job that ran past it may be reported: "within
#: about a second", with room for a busy machine.
REPORT_SLACK = 1.0
#: A service id of the right form that no server has.
UNKNOWN_SERVICE_ID = "00000000-0000-4000-8000-000000000000"
TESTS_DIRECTORY = os.path.join(REPO_ROOT, "tests")


# Helpers

@pytest.fixture
def journal(tmpdir):
    return Journal(str(tmpdir.join("journal")))


@pytest.fixture
def controlled(register_worker, journal):
    """``controlled(**options)``: a ``Controlled`` worker on a service of its own, not started."""
    def make(**options):
        return register_worker(Controlled, ANY_OBJECT_SCHEMA, ANY_OBJECT_SCHEMA,
                               name="Controlled", journal=journal.path, **options)

    return make


@pytest.fixture
def quick_takeover(monkeypatch):
    monkeypatch.setattr(limits, "INTERRUPT_GRACE", GRACE)


def finished(topchef, job, timeout=10.0):
    """The job as the server has it once it has ended (COMPLETED or ERROR)."""
    seen = [job]

    def has_ended():
        seen[0] = topchef.job(job)
        return seen[0].is_finished

    wait_until(has_ended, timeout, interval=0.02,
               message="job %s did not finish within %s s" % (job.id, timeout))
    return seen[0]


def assert_failed_with(job, error_type, generation):
    """``job`` is recorded as failed with an error of ``error_type``, as its generation can."""
    assert job.is_failed, job
    # 2016 servers have no ERROR status: a failure is COMPLETED with an error report.
    assert job.status == (ERROR if generation == "2017" else COMPLETED), job
    assert job.error["type"] == error_type, job.error


def assert_stats(worker, **expected):
    """The worker's counters reach ``expected``: a job's is counted just after the server write."""
    def actual():
        return dict((name, getattr(worker.stats, name)) for name in expected)

    try:
        wait_until(lambda: actual() == expected, timeout=5)
    except AssertionError:
        pass
    assert actual() == expected


def process_is_gone(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return True
    return False


def closed_port():
    """A local port nothing listens on."""
    import socket
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


# Time limits

@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_a_run_stuck_in_sleep_fails_with_time_limit_exceeded_and_the_next_job_completes(
        server, generation, topchef, controlled, journal, quick_takeover, isolation):
    worker = controlled(isolation=isolation, time_limit=LIMIT, threads=2).start()
    stuck = topchef.submit(worker.id, {"value": 1, "do": "sleep", "seconds": 60})
    wait_until(lambda: journal.count("run", 1))

    failed = finished(topchef, stuck)
    late = time.time() - journal.entries("run")[0].time - LIMIT

    assert_failed_with(failed, "TimeLimitExceeded", generation)
    assert "time limit of 0.3 s" in failed.error["message"]
    assert -0.05 < late < REPORT_SLACK
    after = finished(topchef, topchef.submit(worker.id, {"value": 2}))
    assert after.status == COMPLETED and after.result["value"] == 3
    assert WORKING not in jobs_by_status(server, worker.id)
    assert len(worker.processing_threads) == 2 and threads_alive(worker)
    assert_stats(worker, jobs_failed=1, jobs_completed=1)
    if isolation == "thread":
        assert "thread was abandoned" in failed.error["message"]
        assert worker.stats.threads_abandoned == 1
    else:
        # The child was ended, and a new one set up in its place.
        stuck_pid = journal.entries("run")[0].pid
        wait_until(lambda: process_is_gone(stuck_pid))
        wait_until(lambda: journal.count("setup") == 3)
        assert worker.stats.threads_abandoned == 0
        assert stuck_pid in journal.pids("setup")
        assert stuck_pid in journal.pids("teardown")  # SIGTERM cut its run() short
        assert after.result["pid"] != stuck_pid


def test_a_pure_python_run_past_its_limit_is_interrupted_in_its_own_thread_at_once(
        server, generation, topchef, controlled, journal):
    # A short limit: the run holds the interpreter's lock while it spins.
    worker = controlled(time_limit=BUSY_LIMIT).start()
    threads_before = list(worker.processing_threads)
    spinning = topchef.submit(worker.id, {"value": 1, "do": "busy"})

    failed = finished(topchef, spinning)

    late = time.time() - journal.entries("run")[0].time - BUSY_LIMIT
    assert_failed_with(failed, "TimeLimitExceeded", generation)
    # Before a take-over would have come (limits.INTERRUPT_GRACE, 1 s).
    assert late < limits.INTERRUPT_GRACE
    assert "abandoned" not in failed.error["message"]
    # One that catches the interruption and returns as if nothing happened.
    swallowing = topchef.submit(worker.id, {"value": 2, "do": "busy_and_swallow"})
    assert_failed_with(finished(topchef, swallowing), "TimeLimitExceeded", generation)
    assert journal.count("swallowed:TimeLimitExceeded", 2) == 1
    assert journal.count("done", 2) == 1 and journal.count("done", 1) == 0
    after = finished(topchef, topchef.submit(worker.id, {"value": 3}))
    assert after.status == COMPLETED
    assert worker.stats.threads_abandoned == 0
    assert worker.processing_threads == threads_before and threads_alive(worker)
    assert WORKING not in jobs_by_status(server, worker.id)


def test_what_an_abandoned_run_returns_later_is_discarded_and_its_thread_ends(
        server, generation, topchef, register_worker, quick_takeover):
    worker = register_worker(BlocksInC, result_schema=ANY_OBJECT_SCHEMA, time_limit=LIMIT).start()
    blocked = topchef.submit(worker.id, {"value": 1})
    assert worker.started.wait(10)
    abandoned = worker.run_threads[0]

    assert_failed_with(finished(topchef, blocked), "TimeLimitExceeded", generation)
    wait_until(lambda: worker.processing_threads != [abandoned])
    assert worker.stats.threads_abandoned == 1
    worker.release()  # the blocked run goes on now

    wait_until(lambda: worker.after_block)
    wait_until(lambda: not abandoned.is_alive())
    assert_failed_with(topchef.job(blocked), "TimeLimitExceeded", generation)
    assert worker.stats.jobs_completed == 0
    worker.release()  # for the next run, which the new thread makes
    after = finished(topchef, topchef.submit(worker.id, {"value": 5}))
    assert after.status == COMPLETED and after.result == {"value": 6}
    assert worker.run_threads[1] is not abandoned
    assert len(worker.processing_threads) == 1 and threads_alive(worker)


@pytest.mark.parametrize("generation", ["2017"])  # the same on both
def test_an_abandoned_run_is_not_struck_later_by_the_interruption_it_never_received(
        generation, topchef, register_worker, quick_takeover):
    worker = register_worker(BlocksInC, result_schema=ANY_OBJECT_SCHEMA, time_limit=LIMIT).start()
    blocked = topchef.submit(worker.id, {"value": 1})
    assert worker.started.wait(10)
    assert_failed_with(finished(topchef, blocked), "TimeLimitExceeded", generation)
    wait_until(lambda: worker.stats.threads_abandoned == 1)

    worker.release()

    wait_until(lambda: worker.after_block)
    assert worker.after_block == ["went on"]


# Process isolation: crashes

def test_a_job_process_that_segfaults_exits_or_is_killed_fails_its_job_and_is_replaced(
        server, generation, topchef, controlled, journal):
    worker = controlled(isolation="process").start()
    crashes = [({"do": "segfault"}, "was killed by signal 11 (SIGSEGV)"),
               ({"do": "exit", "status": 3}, "exited with status 3"),
               ({"do": "sleep", "seconds": 60}, "was killed by signal 9 (SIGKILL)")]
    for number, (parameters, how) in enumerate(crashes):
        value = 10 * (number + 1)
        crashing = topchef.submit(worker.id, dict(parameters, value=value))
        if parameters["do"] == "sleep":
            wait_until(lambda: journal.count("run", value))
            os.kill(journal.entries("run")[-1].pid, signal.SIGKILL)

        failed = finished(topchef, crashing)

        assert_failed_with(failed, "JobCrashed", generation)
        assert failed.error["message"] == "the process running the job %s" % how
        crashed_pid = journal.entries("run")[-1].pid
        after = finished(topchef, topchef.submit(worker.id, {"value": value + 1}))
        assert after.status == COMPLETED and after.result["value"] == value + 2
        # A new process, set up afresh, ran the next job.
        assert after.result["pid"] != crashed_pid
        assert journal.pids("setup")[-1] == after.result["pid"]
    assert journal.count("setup") == 4
    assert os.getpid() not in journal.pids("setup")
    assert worker.stats.child_processes_died == 3
    assert_stats(worker, jobs_failed=3, jobs_completed=3)
    assert threads_alive(worker)
    assert WORKING not in jobs_by_status(server, worker.id)


@pytest.mark.slow  # half a second between SIGTERM and SIGKILL, and a new job process
def test_a_job_process_that_handles_sigterm_is_still_reported_within_a_second_of_its_limit(
        generation, topchef, controlled, journal):
    worker = controlled(isolation="process", time_limit=LIMIT).start()
    stuck = topchef.submit(worker.id, {"value": 1, "do": "ignore_sigterm_and_sleep"})
    wait_until(lambda: journal.count("run", 1))

    failed = finished(topchef, stuck)

    late = time.time() - journal.entries("run")[0].time - LIMIT
    assert_failed_with(failed, "TimeLimitExceeded", generation)
    assert late < REPORT_SLACK


# setup() and teardown()

def test_setup_and_teardown_run_once_each_in_thread_isolation_around_every_job(
        generation, topchef, controlled, journal):
    worker = controlled(threads=3).start()
    jobs = [topchef.submit(worker.id, {"value": value}) for value in range(12)]
    for job in jobs:
        assert finished(topchef, job).status == COMPLETED
    assert len(set(entry.pid for entry in journal.entries("run"))) == 1

    assert worker.stop(timeout=10)

    setups, teardowns = journal.entries("setup"), journal.entries("teardown")
    assert [entry.pid for entry in setups + teardowns] == [os.getpid()] * 2
    runs = journal.entries("run") + journal.entries("done")
    assert setups[0].time <= min(entry.time for entry in runs)
    assert teardowns[0].time >= max(entry.time for entry in runs)


def test_a_failing_setup_is_retried_and_no_job_is_taken_until_it_works(
        server, generation, topchef, register_worker):
    worker = register_worker(FlakySetup).start()
    job = topchef.submit(worker.id, {"value": 3})
    assert worker.second_attempt.wait(10)

    # The first attempt failed; the second is under way.
    assert not worker.healthy
    assert isinstance(worker.last_error, IOError)
    assert "attempt 1" in str(worker.last_error)
    assert worker.stats.polls == 0 and worker.runs == {}
    assert topchef.job(job).status == REGISTERED
    if generation == "2017":
        assert topchef.service(worker.id).is_available is False
    worker.go_on.set()  # the second attempt fails too, the third works

    assert finished(topchef, job).result == {"value": 4}
    assert worker.setup_calls == 3
    wait_until(lambda: worker.healthy)
    if generation == "2017":
        wait_until(lambda: topchef.service(worker.id).is_available)
    assert worker.stop(timeout=10)
    assert worker.teardown_calls == 1


def test_stop_now_tears_down_what_setup_made(generation, topchef, controlled, journal):
    worker = controlled().start()
    assert finished(topchef, topchef.submit(worker.id, {"value": 1})).status == COMPLETED

    worker.stop_now()

    assert worker.join(timeout=10)
    assert journal.count("setup") == 1 and journal.count("teardown") == 1


def test_each_job_process_sets_up_once_and_tears_down_when_the_worker_stops(
        generation, topchef, controlled, journal):
    worker = controlled(isolation="process", threads=2).start()
    wait_until(lambda: journal.count("setup") == 2)
    children = journal.pids("setup")
    jobs = [topchef.submit(worker.id, {"value": value}) for value in range(6)]
    pids = set(finished(topchef, job).result["pid"] for job in jobs)

    assert worker.stop(timeout=10)

    assert len(children) == 2 and os.getpid() not in children
    assert pids <= set(children)
    assert journal.count("setup") == 2
    assert sorted(journal.pids("teardown")) == sorted(children)
    for pid in children:
        wait_until(lambda: process_is_gone(pid))


@pytest.mark.parametrize("generation", ["2017"])  # the same on both
def test_process_one_waits_for_a_job_process_that_is_slow_to_set_up(
        generation, topchef, controlled, journal):
    # Longer than the slices in which the parent looks for the child's answer.
    worker = controlled(isolation="process", setup_seconds=0.5)
    job = topchef.submit(worker.id, {"value": 1})

    done = worker.process_one()

    assert done.id == job.id and done.status == COMPLETED
    assert done.result["pid"] == journal.pids("setup")[0] != os.getpid()


@pytest.mark.parametrize("generation", ["2017"])  # the same on both
def test_stop_now_tears_down_an_idle_job_process(generation, topchef, controlled, journal):
    # A teardown that takes a moment, as closing an instrument may.
    worker = controlled(isolation="process", teardown_seconds=0.2).start()
    assert finished(topchef, topchef.submit(worker.id, {"value": 1})).status == COMPLETED

    worker.stop_now()

    assert worker.join(timeout=10)
    wait_until(lambda: process_is_gone(journal.pids("setup")[0]))
    assert journal.count("teardown") == 1


SCRIPT = """
import sys
import time

sys.path.insert(0, %(tests)r)
from jobs import Controlled

worker = Controlled(%(address)r, %(service_id)r, journal=%(journal)r, poll_interval=0.01,
                    max_poll_interval=0.05)
"""
SERVING_SCRIPT = SCRIPT + """
print("serve_forever returned %%r" %% (worker.serve_forever(),))
"""
EXITING_SCRIPT = SCRIPT + """
worker.start()
while worker.stats.jobs_completed < 1:
    time.sleep(0.01)
# The end of the program: the exit hook stops the worker.
"""


@pytest.mark.parametrize("source", [pytest.param(SERVING_SCRIPT, id="SIGTERM-to-serve_forever"),
                                    pytest.param(EXITING_SCRIPT, id="exit-hook")])
def test_teardown_runs_when_a_worker_process_is_stopped_by_a_signal_or_its_exit(
        generation, server, topchef, journal, scripts, source):
    service = topchef.register_service("Controlled", "journals", ANY_OBJECT_SCHEMA,
                                       ANY_OBJECT_SCHEMA)
    job = topchef.submit(service, {"value": 1})
    script = scripts.start(source % dict(tests=TESTS_DIRECTORY, address=server.url,
                                         service_id=service.id, journal=journal.path))
    assert finished(topchef, job).status == COMPLETED
    if source is SERVING_SCRIPT:
        script.send_signal(signal.SIGTERM)

    assert script.wait(10) == 0, script.log()
    assert journal.pids("setup") == journal.pids("teardown") == [script.process.pid]
    assert journal.count("teardown") == 1


# A worker class in the main script, started under "if __name__ == '__main__':"

MAIN_SCRIPT = """
import logging
import os
%(imports)s
from topchef_client import Client

logging.basicConfig(level=logging.WARNING)


class InTheMainScript(Client):
    def run(self, parameters):
        return {"value": parameters["value"] + 1, "pid": os.getpid()}


if __name__ == "__main__":
    InTheMainScript(%(address)r, %(service_id)r, isolation="process", poll_interval=0.01,
                    max_poll_interval=0.05).serve_forever()
"""


@pytest.mark.parametrize("generation", ["2017"])
@pytest.mark.parametrize("imports", [
    pytest.param("", id="plain"),
    pytest.param("import multiprocessing", id="importing-multiprocessing"),
])
def test_a_worker_class_of_the_main_script_runs_its_jobs_in_a_job_process(
        generation, server, topchef, scripts, imports):
    service = topchef.register_service("InTheMainScript", "adds one", ANY_OBJECT_SCHEMA,
                                       ANY_OBJECT_SCHEMA)
    job = topchef.submit(service, {"value": 1})
    script = scripts.start(MAIN_SCRIPT % dict(imports=imports, address=server.url,
                                              service_id=service.id))

    wait_until(lambda: topchef.job(job).is_finished or "setup failed" in script.log())

    done = topchef.job(job)
    assert done.status == COMPLETED, script.log()
    assert done.result["value"] == 2 and done.result["pid"] != script.process.pid
    script.send_signal(signal.SIGTERM)
    assert script.wait(10) == 0, script.log()


# current_job

@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_current_job_is_the_job_being_run_and_none_outside_run(
        generation, topchef, controlled, isolation):
    worker = controlled(isolation=isolation).start()
    parameters = {"value": 4, "do": "current"}
    job = topchef.submit(worker.id, parameters)

    result = finished(topchef, job).result

    assert result["current_job"] == {"class": "Job", "id": job.id, "status": WORKING,
                                     "parameters": parameters}
    assert worker.current_job is None


def test_current_job_is_none_in_other_threads_while_a_job_runs(topchef, register_worker):
    worker = register_worker(BlocksInC).start()
    topchef.submit(worker.id, {"value": 1})
    assert worker.started.wait(10)

    try:
        assert worker.current_job is None
    finally:
        worker.release()


# Retry

@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_a_job_that_asks_twice_to_be_run_again_completes_on_its_third_run(
        generation, topchef, controlled, journal, isolation):
    worker = controlled(isolation=isolation, max_retries=2).start()
    job = topchef.submit(worker.id, {"value": 5, "do": "retry", "failures": 2})

    done = finished(topchef, job)

    assert done.status == COMPLETED
    assert done.result["value"] == 6 and done.result["attempts"] == 3
    assert journal.count("run", 5) == 3
    assert_stats(worker, jobs_retried=2, jobs_completed=1, jobs_failed=0)


@pytest.mark.parametrize("max_retries", [0, 1])
def test_a_job_still_asking_to_be_run_again_after_max_retries_fails_with_its_attempts(
        generation, topchef, controlled, journal, max_retries):
    worker = controlled(max_retries=max_retries).start()
    job = topchef.submit(worker.id, {"value": 6, "do": "retry", "failures": 5})

    failed = finished(topchef, job)

    attempts = max_retries + 1
    assert_failed_with(failed, "Retry", generation)
    assert failed.error["attempts"] == attempts
    assert failed.error["message"] == "not ready yet (attempt %d) (gave up after %d attempts)" % (
        attempts, attempts)
    assert journal.count("run", 6) == attempts
    assert_stats(worker, jobs_retried=max_retries, jobs_failed=1)


def test_a_job_is_not_run_again_before_the_delay_its_retry_asked_for(
        generation, topchef, controlled, journal):
    worker = controlled(max_retries=1).start()
    job = topchef.submit(worker.id, {"value": 7, "do": "retry", "failures": 1, "delay": 0.15})

    assert finished(topchef, job).status == COMPLETED

    first, second = journal.entries("run")
    assert 0.15 <= second.time - first.time < 0.15 + REPORT_SLACK


def test_a_retry_without_a_delay_waits_the_failure_backoff_doubling_each_time(
        generation, topchef, controlled, journal):
    worker = controlled(max_retries=2, failure_backoff=0.05, max_failure_backoff=1.0).start()
    job = topchef.submit(worker.id, {"value": 8, "do": "retry", "failures": 2})

    assert finished(topchef, job).status == COMPLETED

    times = [entry.time for entry in journal.entries("run")]
    gaps = [later - earlier for earlier, later in zip(times, times[1:])]
    assert 0.05 <= gaps[0] < 0.05 + REPORT_SLACK
    assert 0.1 <= gaps[1] < 0.1 + REPORT_SLACK


@pytest.mark.skipif(sys.version_info[0] < 3,
                    reason="Python 2.7 keeps no __context__: the error a Retry interrupted")
def test_a_retry_raised_while_handling_an_error_reports_that_error_when_retries_run_out(
        generation, topchef, controlled):
    worker = controlled(max_retries=1).start()
    job = topchef.submit(worker.id, {"value": 9, "do": "retry_after_error"})

    failed = finished(topchef, job)

    assert_failed_with(failed, "KeyError", generation)
    assert failed.error["attempts"] == 2
    assert failed.error["message"] == "'instrument' (gave up after 2 attempts)"
    assert "do_retry_after_error" in failed.error["traceback"]


def test_burst_runs_the_retries_of_the_jobs_it_took_before_returning(
        generation, topchef, controlled, journal):
    worker = controlled(max_retries=1)
    job = topchef.submit(worker.id, {"value": 4, "do": "retry", "failures": 1, "delay": 0.1})

    worker.burst()

    first, second = journal.entries("run")
    assert second.time - first.time >= 0.1
    assert topchef.job(job).status == COMPLETED


# Fail fast on a service that does not exist

@pytest.mark.parametrize("method", ["start", "serve_forever", "burst"])
def test_a_service_that_does_not_exist_fails_start_serve_forever_and_burst_at_once(
        generation, make_worker, method):
    worker = make_worker(AddOne, service_id=UNKNOWN_SERVICE_ID)
    arguments = dict(handle_sigterm=False) if method == "start" else {}
    outcome = []

    def call():
        try:
            outcome.append(getattr(worker, method)(**arguments))
        except BaseException as error:
            outcome.append(error)

    # In a thread of its own: serve_forever() that did not raise would block for ever.
    caller = threading.Thread(target=call)
    caller.daemon = True
    caller.start()
    caller.join(1.0)
    if caller.is_alive():
        worker.stop_now()
        pytest.fail("%s() did not raise within a second" % method)

    # 2016 servers answer 500 for it; 2017 servers 404.
    [error] = outcome
    assert isinstance(error, ServiceNotFound), error
    assert UNKNOWN_SERVICE_ID in str(error)
    assert not worker.is_running
    assert worker.processing_threads == [] and worker.heartbeat_thread is None


def test_a_server_that_cannot_be_reached_at_start_is_no_error_and_start_returns_at_once(
        fast_worker_settings):
    worker = AddOne("http://127.0.0.1:%d" % closed_port(), UNKNOWN_SERVICE_ID,
                    **fast_worker_settings)
    began = time.time()
    try:
        assert worker.start(handle_sigterm=False) is worker

        assert time.time() - began < 1.0  # no automatic retries of the check
        assert worker.is_running
        assert isinstance(worker.last_error, NetworkError)
        assert threads_alive(worker)
    finally:
        assert worker.stop(timeout=10)
        worker.connection.close()


# The options (tests/test_options.py checks the messages of every option)

ADDRESS = "http://127.0.0.1:1"

BAD_OPTIONS = [
    ("time_limit", 0, ValueError), ("time_limit", -1, ValueError),
    ("time_limit", float("nan"), ValueError), ("time_limit", float("inf"), ValueError),
    ("time_limit", "x", TypeError), ("time_limit", True, TypeError),
    ("isolation", "x", ValueError), ("isolation", True, ValueError),
    ("max_retries", -1, ValueError), ("max_retries", 1.5, ValueError),
    ("max_retries", "2", TypeError), ("max_retries", True, TypeError),
    ("max_retries", None, TypeError),
    ("recover_abandoned", "false", TypeError), ("recover_abandoned", 1, TypeError),
    ("recover_abandoned", None, TypeError),
]


@pytest.mark.parametrize("given", ["keyword", "class-attribute"])
@pytest.mark.parametrize("name, value, error", BAD_OPTIONS,
                         ids=["%s=%r" % (name, value) for name, value, _ in BAD_OPTIONS])
def test_a_bad_job_control_option_is_a_type_or_value_error_naming_it_however_given(
        name, value, error, given):
    if given == "keyword":
        make = lambda: AddOne(ADDRESS, UNKNOWN_SERVICE_ID, **{name: value})  # noqa: E731
    else:
        declares = type("Declares", (AddOne,), {name: value})
        make = lambda: declares(ADDRESS, UNKNOWN_SERVICE_ID)  # noqa: E731

    with pytest.raises(error) as raised:
        make()

    assert str(raised.value).startswith(name + " must be")


class Declares(AddOne):
    """A worker that declares its own job control."""

    time_limit = 120
    isolation = "process"
    max_retries = 2
    recover_abandoned = False


def test_every_job_control_option_comes_from_its_class_attribute_unless_given():
    plain = AddOne(ADDRESS, UNKNOWN_SERVICE_ID)
    declared = Declares(ADDRESS, UNKNOWN_SERVICE_ID)
    overridden = Declares(ADDRESS, UNKNOWN_SERVICE_ID, time_limit=None, isolation="thread",
                          max_retries=0, recover_abandoned=True)
    given = AddOne(ADDRESS, UNKNOWN_SERVICE_ID, time_limit=1.5, isolation="process",
                   max_retries=3, recover_abandoned=False)

    def options_of(worker):
        return (worker.time_limit, worker.isolation, worker.max_retries,
                worker.recover_abandoned)

    assert options_of(plain) == (None, "thread", 0, True)
    assert options_of(declared) == (120.0, "process", 2, False)
    assert options_of(overridden) == (None, "thread", 0, True)
    assert options_of(given) == (1.5, "process", 3, False)


def test_process_isolation_refuses_a_worker_class_defined_inside_a_function():
    class Local(Client):
        def run(self, parameters):
            return {}

    with pytest.raises(TypeError) as raised:
        Local(ADDRESS, UNKNOWN_SERVICE_ID, isolation="process")

    assert "Local" in str(raised.value) and "inside a function" in str(raised.value)
    Local(ADDRESS, UNKNOWN_SERVICE_ID)  # thread isolation needs no import


def test_process_isolation_refuses_constructor_arguments_that_do_not_pickle(tmpdir):
    unpicklable = threading.Lock()

    with pytest.raises(TypeError) as raised:
        Controlled(ADDRESS, UNKNOWN_SERVICE_ID, journal=unpicklable, isolation="process")

    message = str(raised.value)
    assert "Controlled" in message and "must pickle" in message and "lock" in message
    Controlled(ADDRESS, UNKNOWN_SERVICE_ID, journal=str(tmpdir.join("journal")),
               isolation="process")

