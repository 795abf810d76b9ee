"""The worker's life: heartbeats, availability, stopping, signals and interpreter exit.

Signals and exit are proven on real processes: scripts run by this
interpreter with the repository on PYTHONPATH, against a LocalServer of each
generation that lives in the test process.
"""
import io
import os
import re
import signal
import textwrap

import pytest

from topchef_client import COMPLETED, REGISTERED, WORKING, TopChef
from topchef_client.testing.proxy import Delay, Respond

from jobs import ADD_ONE_REGISTRATION_SCHEMA, ADD_ONE_RESULT_SCHEMA, AddOne, Blocking, counted
from support import REPO_ROOT, job_update_method, jobs_by_status, messages_naming, wait_until

#: Heartbeats in a row, each followed by a jump of the server's clock.
CLOCK_JUMPS = 5
#: Less than the service timeout of either generation (30 s).
CLOCK_JUMP = 20
#: A Delay that holds its request back until the test removes the rule.
HELD = 30


# Heartbeat and availability

def test_heartbeats_keep_the_service_from_timing_out_while_the_worker_runs(
        clocked_server, make_worker):
    with TopChef(clocked_server.url) as topchef:
        service = topchef.register_service("AddOne", "Adds one", ADD_ONE_REGISTRATION_SCHEMA,
                                           ADD_ONE_RESULT_SCHEMA)
        worker = make_worker(AddOne, address=clocked_server.url, service_id=service.id,
                             heartbeat_interval=0.005).start()

        for _ in range(CLOCK_JUMPS):
            sent = worker.stats.heartbeats_sent
            wait_until(lambda: worker.stats.heartbeats_sent > sent)
            clocked_server.clock.advance(CLOCK_JUMP)
            assert topchef.service(service).has_timed_out is False

        # Far more than the timeout has passed on the server: only the
        # heartbeats kept the service alive, as it times out without them.
        # Once stop() has ended the heartbeat thread nothing new is sent,
        # but a beat the client gave up on (its read timeout is the 5 ms
        # interval) may still reach the server after a jump and count as
        # fresh: jump again until that straggler has landed.
        assert worker.stop(timeout=10)
        sent = worker.stats.heartbeats_sent + worker.stats.heartbeats_failed

        def timed_out_after_a_jump():
            clocked_server.clock.advance(31)
            return topchef.service(service).has_timed_out

        wait_until(timed_out_after_a_jump)
        assert worker.stats.heartbeats_sent + worker.stats.heartbeats_failed == sent


@pytest.mark.parametrize("generation", ["2017"])
def test_a_2017_service_is_available_while_its_worker_runs_and_unavailable_after_stop(
        topchef, service, make_worker):
    assert topchef.service(service).is_available is False
    worker = make_worker(AddOne).start()

    wait_until(lambda: worker.stats.heartbeats_sent >= 1)
    assert topchef.service(service).is_available is True

    assert worker.stop(timeout=10)
    assert topchef.service(service).is_available is False


# Stopping in-process

def test_stop_lets_the_running_job_finish_while_the_heartbeat_goes_on(
        topchef, service, make_worker):
    worker = make_worker(Blocking, heartbeat_interval=0.005).start()
    job = topchef.submit(service, {"value": 2})
    assert worker.started.wait(10)

    assert worker.stop(timeout=0.01) is False  # the job is still running
    sent = worker.stats.heartbeats_sent
    wait_until(lambda: worker.stats.heartbeats_sent >= sent + 3)
    assert topchef.job(job).status == WORKING
    later = topchef.submit(service, {"value": 3})
    worker.release.set()

    assert worker.join(timeout=10)
    assert topchef.job(job).status == COMPLETED
    assert topchef.job(job).result == {"value": 3}
    assert topchef.job(later).status == REGISTERED  # no job is taken after stop()
    assert not worker.heartbeat_thread.is_alive()
    assert not worker.is_running


def test_stop_now_puts_the_running_job_back_in_the_queue_and_discards_its_result(
        topchef, service, make_worker):
    worker = make_worker(Blocking).start()
    job = topchef.submit(service, {"value": 2})
    assert worker.started.wait(10)
    assert topchef.job(job).status == WORKING

    worker.stop_now()

    assert not worker.is_running
    assert not worker.heartbeat_thread.is_alive()
    assert topchef.job(job).status == REGISTERED
    worker.release.set()
    wait_until(lambda: not worker.processing_thread.is_alive())
    assert topchef.job(job).status == REGISTERED
    assert worker.stats.jobs_completed == 0


def test_stop_now_while_a_claim_is_on_its_way_still_leaves_the_job_registered(
        generation, proxy, topchef, service, make_worker):
    # The claim is held back, so that stop_now() puts the job back before
    # the claim lands and marks it WORKING.
    claim = proxy.add_rule(Delay(HELD), method=job_update_method(generation),
                           path=r"^/jobs/", times=1)
    worker = make_worker(counted(AddOne), address=proxy.url).start()
    job = topchef.submit(service, {"value": 2})
    wait_until(lambda: claim.hits == 1)

    worker.stop_now()
    assert worker.processing_thread.is_alive()  # still waiting for its claim
    claim.remove()  # the claim lands now
    wait_until(lambda: not worker.processing_thread.is_alive())

    assert topchef.job(job).status == REGISTERED
    assert worker.calls == []


def test_a_stopped_worker_can_be_started_again(topchef, service, make_worker):
    worker = make_worker(AddOne).start()
    assert worker.stop(timeout=10)

    worker.start()
    job = topchef.submit(service, {"value": 5})

    assert topchef.wait(job, timeout=10, poll_interval=0.01) == {"value": 6}
    assert worker.is_running


# serve_forever() and signals, in a real process

SERVE_FOREVER_SCRIPT = """
import logging
import os
import signal
import time

from topchef_client import Client

logging.basicConfig(level=logging.INFO, format="%%(levelname)s %%(name)s: %%(message)s")
STARTED, RELEASE = %(started)r, %(release)r


class WaitsForRelease(Client):
    def run(self, parameters):
        # serve_forever() handles SIGTERM from now on.
        while signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            time.sleep(0.002)
        open(STARTED, "w").close()
        while not os.path.exists(RELEASE):
            time.sleep(0.002)
        return {"value": parameters["value"] + 1}


worker = WaitsForRelease(%(address)r, %(service_id)r, poll_interval=0.01,
                         max_poll_interval=0.05, heartbeat_interval=0.05)
print("serve_forever returned %%r" %% (worker.serve_forever(),))
"""

STOP_SIGNALS = [pytest.param(signal.SIGTERM, id="SIGTERM"),
                pytest.param(signal.SIGINT, id="SIGINT")]


@pytest.fixture
def serving_script(tmpdir, server, topchef, service, scripts):
    """A script in serve_forever() with a job running until the test releases it."""
    paths = dict(started=str(tmpdir.join("started")), release=str(tmpdir.join("release")))
    job = topchef.submit(service, {"value": 4})
    script = scripts.start(SERVE_FOREVER_SCRIPT % dict(
        paths, address=server.url, service_id=service.id))
    wait_until(lambda: os.path.exists(paths["started"]) or not script.running,
               message="the job did not start")
    assert script.running, script.log()
    assert topchef.job(job).status == WORKING
    script.job = job
    script.release = lambda: open(paths["release"], "w").close()
    return script


@pytest.mark.parametrize("signum", STOP_SIGNALS)
def test_the_first_signal_lets_serve_forever_finish_the_running_job_and_exit_0(
        server, topchef, service, serving_script, signum):
    serving_script.send_signal(signum)
    serving_script.wait_for_log("signal %d: stopping after the running job" % signum)
    assert serving_script.running
    later = topchef.submit(service, {"value": 7})

    serving_script.release()

    assert serving_script.wait(10) == 0, serving_script.log()
    assert topchef.job(serving_script.job).status == COMPLETED
    assert topchef.job(serving_script.job).result == {"value": 5}
    assert topchef.job(later).status == REGISTERED
    assert WORKING not in jobs_by_status(server, service.id)


@pytest.mark.parametrize("signum", STOP_SIGNALS)
def test_a_second_signal_stops_serve_forever_at_once_and_requeues_the_running_job(
        server, topchef, service, serving_script, signum):
    serving_script.send_signal(signum)
    serving_script.wait_for_log("signal %d: stopping after the running job" % signum)

    serving_script.send_signal(signum)

    assert serving_script.wait(10) == 0, serving_script.log()
    assert "signal %d again: stopping now" % signum in serving_script.log()
    assert topchef.job(serving_script.job).status == REGISTERED
    assert WORKING not in jobs_by_status(server, service.id)


# The exit hook, in a real process

EXIT_SCRIPT = """
import sys
import threading
import time

from topchef_client import Client

started = threading.Event()


class TakesItsTime(Client):
    def run(self, parameters):
        started.set()
        finish = time.time() + %(duration)r
        while time.time() < finish:
            time.sleep(0.01)
        return {"value": parameters["value"] + 1}


def main():
    worker = TakesItsTime(%(address)r, %(service_id)r, exit_grace_period=%(grace)r,
                          poll_interval=0.01, max_poll_interval=0.05)
    worker.start()
    if not started.wait(10):
        sys.exit("no job started")
    if %(interrupt)r:
        raise KeyboardInterrupt()


main()
"""

EXITS = [
    pytest.param(dict(duration=30.0, grace=0.1, interrupt=False), REGISTERED,
                 id="main-returns-during-a-long-job"),
    pytest.param(dict(duration=30.0, grace=0.1, interrupt=True), REGISTERED,
                 id="keyboard-interrupt-during-a-long-job"),
    pytest.param(dict(duration=0.1, grace=10.0, interrupt=False), COMPLETED,
                 id="main-returns-during-a-job-shorter-than-the-grace-period"),
]


@pytest.mark.parametrize("settings, final_status", EXITS)
def test_at_exit_a_running_job_gets_the_grace_period_then_goes_back_in_the_queue(
        server, topchef, service, scripts, settings, final_status):
    job = topchef.submit(service, {"value": 4})
    script = scripts.start(EXIT_SCRIPT % dict(settings, address=server.url,
                                              service_id=service.id))

    script.wait(15)

    assert "no job started" not in script.log()
    assert topchef.job(job).status == final_status, script.log()
    assert WORKING not in jobs_by_status(server, service.id)


# The README's example, as written

README_PATH = os.path.join(REPO_ROOT, "README.md")


def readme_listing(address, service_id):
    """The README's complete worker listing, with only the address and service id filled in."""
    with io.open(README_PATH, encoding="utf-8") as readme:
        blocks = re.findall(r"```python\n(.*?)```", readme.read(), re.DOTALL)
    listings = [block for block in blocks if "while True:" in block and ".start()" in block]
    assert len(listings) == 1, "the README should have one complete worker listing"
    source = textwrap.dedent(listings[0])
    for name, value in (("service_address", address), ("service_id", service_id)):
        source, count = re.subn(r"^%s = .*$" % name, lambda match: "%s = %r" % (name, value),
                                source, flags=re.MULTILINE)
        assert count == 1, "the README listing should set %s once" % name
    return source


def completed_correctly(server, service_id):
    return [job for job in jobs_by_status(server, service_id).get(COMPLETED, [])
            if job["result"] == {"value": job["parameters"]["value"] + 1}]


def test_the_readme_example_completes_jobs_and_a_sigterm_leaves_none_working(
        generation, server, proxy, topchef, service, scripts):
    jobs = [topchef.submit(service, {"value": 1 + number % 10}) for number in range(60)]
    # Through the proxy, so that a job can be caught in flight.
    source = readme_listing(proxy.url, service.id)
    script = scripts.start(source)
    wait_until(lambda: len(completed_correctly(server, service.id)) >= 10 or not script.running)
    # Every claim and report now takes a while: the worker is nearly always
    # waiting on one, so the signal finds a job in flight.
    in_flight = proxy.add_rule(Delay(0.1), method=job_update_method(generation),
                               path=r"^/jobs/")
    wait_until(lambda: in_flight.hits >= 1 or not script.running)

    script.send_signal(signal.SIGTERM)

    assert script.wait(10) == 128 + signal.SIGTERM, script.log()
    assert WORKING not in jobs_by_status(server, service.id)
    assert 10 <= len(completed_correctly(server, service.id)) < len(jobs)
    # Started again, it finishes the rest.
    in_flight.remove()
    script = scripts.start(source, name="again.py")
    wait_until(lambda: len(completed_correctly(server, service.id)) == len(jobs))
    script.send_signal(signal.SIGTERM)
    assert script.wait(10) == 128 + signal.SIGTERM, script.log()
    assert list(jobs_by_status(server, service.id)) == [COMPLETED]


def test_stop_now_while_a_result_is_on_its_way_leaves_the_job_completed(
        generation, proxy, topchef, service, make_worker):
    worker = make_worker(Blocking, address=proxy.url).start()
    job = topchef.submit(service, {"value": 2})
    assert worker.started.wait(10)
    # The claim has landed; now let the result land but hold back the answer,
    # so that stop_now() comes while the worker still waits to hear.
    report = proxy.add_rule(Delay(HELD, after_forwarding=True),
                            method=job_update_method(generation), path=r"^/jobs/", times=1)
    worker.release.set()
    wait_until(lambda: report.hits == 1)

    worker.stop_now()
    assert worker.processing_thread.is_alive()  # still waiting for the answer
    report.remove()  # the answer comes now
    wait_until(lambda: not worker.processing_thread.is_alive())

    finished = topchef.job(job)
    assert finished.status == COMPLETED
    assert finished.result == {"value": 3}


def test_stop_now_while_the_server_refuses_a_result_gives_the_write_up(
        generation, proxy, topchef, service, make_worker, caplog):
    # Single requests: the worker's own loop does the retrying.
    worker = make_worker(Blocking, address=proxy.url, retries=0).start()
    job = topchef.submit(service, {"value": 2})
    assert worker.started.wait(10)
    # Every write of the job fails from now on, as if the server were down:
    # the worker keeps trying to report the result until it is told to stop.
    refused = proxy.add_rule(Respond(503, b"down for maintenance"),
                             method=job_update_method(generation), path=r"^/jobs/")
    worker.release.set()
    wait_until(lambda: refused.hits >= 3)

    worker.stop_now()

    # The given-up thread stops retrying, tries once to put the job back
    # (refused too), and ends: the job is left to the next start's recovery.
    wait_until(lambda: not worker.processing_thread.is_alive())
    assert messages_naming(caplog, "could not be put back in the queue and stays WORKING")
    assert worker.stats.jobs_completed == 0
    refused.remove()
    assert topchef.job(job).status == WORKING


def test_process_one_runs_jobs_again_after_the_worker_was_stopped(
        topchef, service, make_worker):
    worker = make_worker(AddOne).start()
    assert worker.stop(timeout=10)
    job = topchef.submit(service, {"value": 4})

    done = worker.process_one()

    assert done.id == job.id
    assert done.status == COMPLETED
