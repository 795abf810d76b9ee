"""Signals and exit, in real processes: nothing is left WORKING, whatever arrives when."""
import os
import signal
import sys
import time

import pytest

from topchef_client import REGISTERED, WORKING

from support import jobs_by_status, wait_until

#: The README's pattern: start(), then sleep until interrupted (with logging
#: set up, to see the exit hook at work). The job never ends by itself, so
#: only the exit hook can put it back.
README_SCRIPT = """
import logging
import os
import time

from topchef_client import Client

logging.basicConfig(level=logging.INFO, format="%%(levelname)s %%(name)s: %%(message)s")

STARTED = %(started)r


class Endless(Client):
    def run(self, parameters):
        open(STARTED, "w").close()
        while True:
            time.sleep(0.05)


if __name__ == "__main__":
    service = Endless(%(address)r, %(service_id)r, poll_interval=0.01,
                      max_poll_interval=0.05, exit_grace_period=%(grace)r)
    service.start()
    while True:
        time.sleep(3600)
"""

STOP_SIGNALS = [pytest.param(signal.SIGINT, id="SIGINT"),
                pytest.param(signal.SIGTERM, id="SIGTERM")]


def exit_code_after(signum):
    """How the README's program ends when ``signum`` stops it.

    SIGINT is an uncaught KeyboardInterrupt, which Python 3.8 and later
    turn into death by SIGINT (status 1 before); SIGTERM is the worker's
    bridge to ``sys.exit(128 + 15)``.
    """
    if signum == signal.SIGTERM:
        return 128 + signal.SIGTERM
    return -signal.SIGINT if sys.version_info >= (3, 8) else 1


@pytest.fixture
def readme_script(tmpdir, server, topchef, service, scripts):
    """The README's program with a job running in it; ``grace`` is its exit grace period."""

    def start(grace):
        started = str(tmpdir.join("started"))
        job = topchef.submit(service, {"value": 3})
        script = scripts.start(README_SCRIPT % dict(
            started=started, address=server.url, service_id=service.id, grace=grace))
        wait_until(lambda: os.path.exists(started) or not script.running,
                   message="the job did not start")
        assert script.running, script.log()
        assert topchef.job(job).status == WORKING
        script.job = job
        return script

    return start


@pytest.mark.parametrize("signum", STOP_SIGNALS)
def test_a_second_signal_during_the_exit_hook_cannot_leave_the_job_working(
        server, topchef, service, readme_script, signum):
    script = readme_script(grace=30.0)

    script.send_signal(signum)
    script.wait_for_log("exiting with jobs running")
    script.send_signal(signum)  # while the hook waits out its grace period

    assert script.wait(10) == exit_code_after(signum)
    log = script.log()
    # The first SIGINT is the program's own KeyboardInterrupt (its traceback
    # is Python's); nothing may interrupt the exit hook after it.
    assert "Exception ignored" not in log, log
    assert log.count("Traceback") == (1 if signum == signal.SIGINT else 0), log
    assert "put back in the queue" in log
    assert topchef.job(script.job).status == REGISTERED
    assert WORKING not in jobs_by_status(server, service.id)
    if server.generation == "2017":
        assert topchef.service(service).is_available is False


def test_many_signals_during_the_exit_hook_still_put_the_job_back(
        server, topchef, service, readme_script):
    script = readme_script(grace=30.0)

    script.send_signal(signal.SIGINT)
    script.wait_for_log("exiting with jobs running")
    for _ in range(5):
        script.send_signal(signal.SIGTERM)
        script.send_signal(signal.SIGINT)

    assert script.wait(10) == exit_code_after(signal.SIGINT)
    log = script.log()
    assert "Exception ignored" not in log and log.count("Traceback") == 1, log
    assert topchef.job(script.job).status == REGISTERED


SERVER_DOWN_SCRIPT = """
import logging
import sys

from topchef_client import Client

logging.basicConfig(level=logging.INFO, format="%%(levelname)s %%(name)s: %%(message)s")


class AddOne(Client):
    def run(self, parameters):
        return {"value": parameters["value"] + 1}


worker = AddOne(%(address)r, %(service_id)r, poll_interval=0.01, max_poll_interval=0.05)
worker.serve_forever()
print("stopped")
"""


def test_a_stop_signal_ends_serve_forever_promptly_while_the_server_is_down(
        server, service, scripts, proxy):
    script = scripts.start(SERVER_DOWN_SCRIPT % dict(address=proxy.url,
                                                     service_id=service.id))
    script.wait_for_log("running with 1 processing thread")
    proxy.go_down()
    script.wait_for_log("failed")  # polls and heartbeats meet the dead server

    signalled = time.time()
    script.send_signal(signal.SIGINT)
    assert script.wait(10) == 0, script.log()
    # A goodbye is one short attempt, and polls and heartbeats are not
    # retried under a stop: the stop takes about a second at most here
    # (it took 9 s before), bounded well below the retries it used to wait.
    assert time.time() - signalled < 4, script.log()
    assert "stopped" in script.log()
