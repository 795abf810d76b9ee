# -*- coding: utf-8 -*-
"""``topchef`` and ``topchef-worker`` as a user runs them: the console scripts, in subprocesses.

Each test starts the installed console script (``bin/topchef`` next to this
interpreter; ``python -c`` with the same entry point in a checkout that was
not installed) against the session's local servers of both generations, and
reads its exit code, standard output and standard error (the helpers are
in ``console_scripts.py``).
"""
import json
import os
import signal
import threading

import pytest

from topchef_client import COMPLETED, REGISTERED, WORKING

from console_scripts import (
    ADD_ONE, FAST, NO_SUCH_ID, ONLY_2017, UUID, Runner, assert_one_clean_line,
    environment)
from jobs import ADD_ONE_REGISTRATION_SCHEMA, ADD_ONE_RESULT_SCHEMA, LENIENT_RESULT_SCHEMA
from support import wait_until


@pytest.fixture(scope="module")
def start_up():
    """Seconds a console script takes here to start and end doing nothing much."""
    runner = Runner()
    return runner("topchef", "--version").seconds


def write_module(directory, name, source):
    directory.join(name + ".py").write(source)


# --version and the global options

@pytest.mark.parametrize("script", ["topchef", "topchef-worker"])
def test_both_commands_print_their_version(cli, script):
    import topchef_client

    run = cli(script, "--version")

    assert run.code == 0, run.err
    assert run.out.strip() == "%s %s" % (script, topchef_client.__version__)


@ONLY_2017
def test_global_options_go_before_or_after_the_command(cli, server, service):
    before = cli("topchef", "--address", server.url, "services", "--json")
    after = cli("topchef", "services", "--json", "--address", server.url)
    # Given twice, the one after the command counts.
    both = cli("topchef", "--address", "http://127.0.0.1:1", "services", "--address",
               server.url, "--json")

    for run in (before, after, both):
        assert run.code == 0, run.err
        assert [entry["id"] for entry in json.loads(run.out)] == [service.id]


@ONLY_2017
def test_verbosity_is_set_before_or_after_the_command(cli, server):
    verbose = cli("topchef", "-v", "--address", server.url, "services")
    quiet = cli("topchef", "services", "--address", server.url, "-v", "--log-level",
                "error")

    assert verbose.code == quiet.code == 0
    assert "INFO topchef_client.api: %s speaks the 2017 TopChef API" % server.url in \
        verbose.err
    assert quiet.err == ""


def test_topchef_worker_is_also_topchef_worker_with_global_options_first(
        cli, server, topchef, service):
    job = topchef.submit(service, {"value": 1})

    run = cli("topchef", "--address", server.url, "-q", "worker", ADD_ONE, "--service-id",
              service.id, "--burst", *FAST)

    assert run.code == 0, run.err
    assert run.err == ""  # -q before the command: no INFO lines
    assert topchef.job(job).status == COMPLETED


# Ctrl-C and SIGTERM

#: SIGINT on one generation and SIGTERM on the other: each signal and each server, once.
SIGNALS = pytest.mark.parametrize("generation, signum", [("2016", signal.SIGINT),
                                                         ("2017", signal.SIGTERM)])


@SIGNALS
def test_a_signal_stops_submit_wait_with_its_exit_code_and_the_id_to_wait_again(
        cli, server, topchef, service, signum):
    run = cli.start("topchef", "submit", service.id, '{"value": 1}', "--wait", "--address",
                    server.url)
    wait_until(lambda: run.out.endswith("\n"), message="no job id printed:\n" + run.err)
    job_id = run.out.strip()
    assert UUID.match(job_id) and topchef.job(job_id).status == REGISTERED

    run.send_signal(signum)

    assert run.wait() == 128 + signum
    what = "interrupted" if signum == signal.SIGINT else "terminated"
    assert run.err_lines() == ["topchef submit: %s: stopped waiting; topchef wait %s waits "
                               "again" % (what, job_id)]


@SIGNALS
def test_a_signal_stops_the_worker_with_its_exit_code_and_its_stats_logged_once(
        cli, server, topchef, service, signum):
    run = cli.start("topchef-worker", ADD_ONE, "--address", server.url, "--service-id",
                    service.id, *FAST)
    job = topchef.submit(service, {"value": 1})
    run.wait_for("job %s completed" % job.id)

    run.send_signal(signum)

    assert run.wait() == 128 + signum
    assert run.err.count("stopped: WorkerStats(") == 1
    assert "jobs_completed=1" in run.err
    assert "Traceback" not in run.err


def read_terminal(master, chunks):
    """Collect what a subprocess writes to its terminal until it closes it."""
    while True:
        try:
            data = os.read(master, 1024)
        except OSError:  # EIO on Linux once the other side is closed
            return
        if not data:
            return
        chunks.append(data)


def test_wait_on_a_terminal_shows_the_status_of_the_running_job_and_the_time(
        cli, server, topchef, connection, service):
    pty = pytest.importorskip("pty")
    job = connection.update_job(topchef.submit(service, {"value": 1}), WORKING)
    master, slave = pty.openpty()
    run = cli.start("topchef", "wait", job.id, "--address", server.url, stderr=slave)
    os.close(slave)
    chunks = []
    reader = threading.Thread(target=read_terminal, args=(master, chunks))
    reader.daemon = True
    reader.start()

    def shown():
        return b"".join(chunks).decode("utf-8", "replace")

    wait_until(lambda: "job %s: WORKING, 0 s" % job.id in shown(),
               message="no progress line:\n%r" % shown())
    connection.update_job(job, COMPLETED, {"value": 2})

    assert run.wait() == 0
    reader.join(5)
    os.close(master)
    assert run.out.split() == [job.id, COMPLETED, '{"value":', "2}"]
    assert shown().startswith("\r") and shown().endswith("\n")


# An unreachable server, retries

@pytest.mark.parametrize("address", ["http://127.0.0.1:1", "http://no-such-host.invalid:5000"])
def test_an_unreachable_server_or_unknown_host_is_said_in_one_line_within_2_s(
        cli, start_up, address):
    run = cli("topchef", "services", "--address", address)

    assert_one_clean_line(run, 1)
    assert "Retrying" not in run.err
    assert run.err.startswith("topchef services: error: connection failed: GET %s/" % address)
    assert run.seconds < start_up + 2.0


@ONLY_2017
def test_retries_are_for_who_asks_for_them(cli, server, proxy, service):
    from topchef_client.testing import Respond
    proxy.add_rule(Respond(503, "restarting"), times=1)

    once = cli("topchef", "services", "--address", proxy.url)
    proxy.add_rule(Respond(503, "restarting"), times=1)
    retried = cli("topchef", "--retries", "2", "services", "--address", proxy.url, "--json")

    assert_one_clean_line(once, 1)
    assert "answered 503" in once.err
    assert retried.code == 0, retried.err
    assert [entry["id"] for entry in json.loads(retried.out)] == [service.id]
    assert retried.err == ""  # no urllib3 "Retrying (...)" warning on the terminal


# jobs, requeue, cancel

def test_jobs_lists_the_jobs_of_a_service_by_status(cli, server, topchef, connection, service):
    waiting = topchef.submit(service, {"value": 1})
    running = connection.update_job(topchef.submit(service, {"value": 2}), WORKING)

    table = cli("topchef", "jobs", service.id, "--address", server.url)
    working = cli("topchef", "jobs", service.id, "--status", "working", "--json",
                  "--address", server.url)

    assert table.code == working.code == 0
    rows = [line.split()[:2] for line in table.out.splitlines()]
    assert rows[0] == ["ID", "STATUS"]
    assert sorted(rows[1:]) == sorted([[waiting.id, REGISTERED], [running.id, WORKING]])
    assert [(job["id"], job["status"]) for job in json.loads(working.out)] == [
        (running.id, WORKING)]


def test_requeue_puts_a_job_back_in_the_queue(cli, server, topchef, connection, service):
    job = connection.update_job(topchef.submit(service, {"value": 1}), WORKING)

    text = cli("topchef", "requeue", job.id, "--address", server.url)
    again = cli("topchef", "requeue", job.id, "--json", "--address", server.url)

    assert text.code == again.code == 0
    assert text.out == "job %s: WORKING -> REGISTERED\n" % job.id
    assert json.loads(again.out)["status"] == REGISTERED
    assert topchef.job(job).status == REGISTERED


def test_cancel_fails_a_job_with_a_cancelled_error_once(cli, server, topchef):
    # A result schema with room for an error report: a 2017 server keeps it.
    service = topchef.register_service("Lenient", "", ADD_ONE_REGISTRATION_SCHEMA,
                                       LENIENT_RESULT_SCHEMA)
    job = topchef.submit(service, {"value": 1})

    cancelled = cli("topchef", "cancel", job.id, "--json", "--address", server.url)
    again = cli("topchef", "cancel", job.id, "--address", server.url)

    assert cancelled.code == 0, cancelled.err
    shown, stored = json.loads(cancelled.out), topchef.job(job)
    expected = "ERROR" if server.generation == "2017" else COMPLETED  # 2016: a failure record
    assert shown["status"] == stored.status == expected
    assert stored.is_failed and stored.error["type"] == "Cancelled"
    assert_one_clean_line(again, 1)
    assert "job %s has finished already (%s" % (job.id, expected) in again.err


# topchef-worker

NO_RUN = """
from topchef_client import Client


class NoRun(Client):
    pass
"""


@ONLY_2017
def test_the_worker_refuses_a_class_without_run_before_registering_anything(
        cli, server, topchef, tmpdir):
    write_module(tmpdir, "norun", NO_RUN)
    tmpdir.join("schema.json").write('{"type": "object"}')

    run = cli("topchef-worker", "norun:NoRun", "--register", "Nothing", "--address",
              server.url, "--registration-schema", "schema.json", cwd=str(tmpdir))

    assert_one_clean_line(run, 2)
    assert "norun:NoRun cannot run jobs: it does not implement run()" in run.err
    assert topchef.services() == []


def test_the_worker_stops_after_max_jobs(cli, server, topchef, service):
    jobs = [topchef.submit(service, {"value": value}) for value in (1, 2, 3)]

    run = cli("topchef-worker", ADD_ONE, "--address", server.url, "--service-id", service.id,
              "--max-jobs", "2", *FAST)

    assert run.code == 0, run.err
    assert sorted(topchef.job(job).status for job in jobs) == [COMPLETED, COMPLETED,
                                                               REGISTERED]
    assert "2 job(s) finished (--max-jobs 2): stopping" in run.err


@ONLY_2017
def test_the_worker_stops_after_max_idle_time(cli, server, topchef, service):
    job = topchef.submit(service, {"value": 1})

    run = cli("topchef-worker", ADD_ONE, "--address", server.url, "--service-id", service.id,
              "--max-idle-time", "0.3", *FAST)

    assert run.code == 0, run.err
    assert topchef.job(job).status == COMPLETED
    assert "no job for 0.3 s (--max-idle-time): stopping" in run.err


SLEEPY = """
import time

from topchef_client import Client


class Sleepy(Client):
    def run(self, parameters):
        if parameters["value"] == 1:
            time.sleep(60)
        return {"value": parameters["value"] + 1}
"""


@ONLY_2017
def test_the_worker_runs_jobs_in_child_processes_under_a_time_limit(
        cli, server, topchef, service, tmpdir):
    write_module(tmpdir, "sleepy", SLEEPY)
    stuck, quick = topchef.submit(service, {"value": 1}), topchef.submit(service, {"value": 2})

    run = cli("topchef-worker", "sleepy:Sleepy", "--address", server.url, "--service-id",
              service.id, "--isolation", "process", "--time-limit", "0.5", "--burst", *FAST,
              cwd=str(tmpdir), timeout=30)

    assert run.code == 0, run.err
    assert topchef.job(quick).result == {"value": 3}
    failed = topchef.job(stuck)
    assert failed.is_failed
    assert failed.error is None or failed.error["type"] == "TimeLimitExceeded"
    assert "TimeLimitExceeded" in run.err


FLAKY = """
from topchef_client import Client, Retry


class Flaky(Client):
    attempts = 0

    def run(self, parameters):
        Flaky.attempts += 1
        if Flaky.attempts == 1:
            raise Retry("not yet", delay=0)
        return {"value": parameters["value"] + 1}
"""


@ONLY_2017
def test_the_worker_runs_a_job_again_up_to_max_retries(cli, server, topchef, service, tmpdir):
    write_module(tmpdir, "flaky", FLAKY)
    job = topchef.submit(service, {"value": 1})

    run = cli("topchef-worker", "flaky:Flaky", "--address", server.url, "--service-id",
              service.id, "--max-retries", "1", "--max-jobs", "1", *FAST, cwd=str(tmpdir))

    assert run.code == 0, run.err
    assert topchef.job(job).result == {"value": 2}, run.err
    assert "asked to be run again (not yet; attempt 1 of 2)" in run.err


BROKEN = u"""
from topchef_client import Client


class Broken(Client):
    def run(self, parameters):
        if parameters["value"] == 1:
            return {"value": "not a number"}
        raise ValueError(u"no %r" % u"caf\\xe9")
"""


def test_a_bad_result_is_one_log_line_and_a_failing_run_one_traceback_of_user_code(
        cli, server, topchef, tmpdir):
    write_module(tmpdir, "broken", BROKEN)
    tmpdir.join("parameters.json").write(json.dumps(ADD_ONE_REGISTRATION_SCHEMA))
    tmpdir.join("result.json").write(json.dumps(ADD_ONE_RESULT_SCHEMA))
    # Registered by the worker, which checks results against the schema it was
    # given (a 2016 server keeps only part of it).
    run = cli.start("topchef-worker", "broken:Broken", "--address", server.url, "--register",
                    "Broken", "--registration-schema", "parameters.json", "--result-schema",
                    "result.json", "--max-jobs", "2", *FAST, cwd=str(tmpdir))
    wait_until(lambda: run.out.endswith("\n"), message="no service id:\n" + run.err)
    service_id = run.out.strip()
    bad, raising = topchef.submit(service_id, {"value": 1}), topchef.submit(service_id,
                                                                            {"value": 2})

    assert run.wait() == 0, run.err
    assert topchef.job(bad).is_failed and topchef.job(raising).is_failed
    lines = run.err.splitlines()
    assert [line for line in lines if bad.id in line and "ERROR" in line] == [
        line for line in lines if "job %s failed: run() returned a result that breaks the "
                                  "job_result_schema: invalid result at value: 'not a "
                                  "number' is not of type 'integer'" % bad.id in line]
    assert run.err.count("Traceback") == 1
    traceback = run.err[run.err.index("Traceback"):]
    assert 'broken.py", line 9, in run' in traceback
    assert "topchef_client" not in traceback.split("ValueError")[0]
    assert "During handling" not in run.err
    assert "u'" not in run.err  # Python 2.7 shows no u'...' prefix
    assert run.err.count("stopped: WorkerStats(") == 1


# Output through pipes, on every Python

@ONLY_2017
@pytest.mark.parametrize("settings, argv", [
    # Python 3.6 under LANG=C: 3.7 and later behave so without their UTF-8 mode
    # and locale coercion; Python 2.7 writes ASCII to any pipe under LANG=C.
    ({"LANG": "C", "LC_ALL": "C", "PYTHONIOENCODING": None, "PYTHONUTF8": "0",
      "PYTHONCOERCECLOCALE": "0"}, ["services"]),
    ({"PYTHONIOENCODING": "ascii"}, ["service", "ID"]),
], ids=["LANG=C", "PYTHONIOENCODING=ascii"])
def test_output_through_a_pipe_survives_a_name_its_encoding_cannot_show(
        cli, server, topchef, settings, argv):
    service = topchef.register_service(u"Spektrometer \u03a9 f\xfcr Caf\xe9", u"\u00b5s pulses",
                                       {"type": "object"})
    argv = [service.id if word == "ID" else word for word in argv]

    run = cli("topchef", "--address", server.url, *argv, env=environment(**settings))

    assert run.code == 0, run.err
    assert u"Spektrometer \\u03a9 f\\xfcr Caf\\xe9" in run.out, run.out


@ONLY_2017
def test_messages_show_no_python_2_text_prefixes(cli, server, service):
    run = cli("topchef", "submit", service.id, '{"value": "three"}', "--address", server.url)

    assert_one_clean_line(run, 2)
    assert "value: 'three' is not of type 'integer'" in run.err
    assert "u'" not in run.err


# A server that accepts connections and never answers

@ONLY_2017
def test_the_worker_says_what_it_waits_for_and_gives_up_after_the_read_timeout(
        cli, proxy):
    from topchef_client.testing import Hang
    proxy.add_rule(Hang())

    run = cli("topchef-worker", ADD_ONE, "--address", proxy.url, "--service-id", NO_SUCH_ID,
              "--request-timeout", "1.2")

    assert run.code == 1
    waiting, error = run.err_lines()
    assert waiting.endswith("WARNING topchef_client.cli: waiting for %s to answer: no answer "
                            "after 0.6 s (it gives up after the read timeout of 1.2 s)"
                            % proxy.url)
    assert error.startswith("topchef-worker: error: the server at %s accepts connections but "
                            "does not answer (no answer in time: GET %s/" % (proxy.url,
                                                                             proxy.url))
    assert "Traceback" not in run.err


@ONLY_2017
def test_ctrl_c_stops_a_worker_waiting_for_a_hung_server_at_once(cli, proxy):
    from topchef_client.testing import Hang
    proxy.add_rule(Hang())
    run = cli.start("topchef-worker", ADD_ONE, "--address", proxy.url, "--service-id",
                    NO_SUCH_ID, "--request-timeout", "20")
    run.wait_for("waiting for %s to answer" % proxy.url)

    run.send_signal(signal.SIGINT)

    assert run.wait(timeout=5) == 130
    assert run.err_lines()[-1] == "topchef-worker: interrupted"
    assert "Traceback" not in run.err
