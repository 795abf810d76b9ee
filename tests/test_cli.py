"""The command line, run in this process through ``cli.main(argv)`` and ``cli.worker_main(argv)``.

What a command does with its arguments, quickly. What needs the console
scripts themselves (signals, exit codes, pipes, encodings, subprocesses of
every kind) is in ``test_cli_scripts.py``; passwords in addresses in
``test_cli_secrets.py``.
"""
import argparse
import io
import json
import os

import pytest

from topchef_client import COMPLETED, REGISTERED, TopChef, cli

from topchef_client.testing.proxy import Delay

from jobs import ADD_ONE_REGISTRATION_SCHEMA, ADD_ONE_RESULT_SCHEMA
from support import REPO_ROOT

ADD_ONE = "topchef_client.demo:AddOne"


def run(capsys, *argv):
    """Run ``topchef`` with ``argv``; return (exit code, stdout, stderr)."""
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def run_worker(capsys, *argv):
    code = cli.worker_main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_line(text):
    return [line for line in text.splitlines() if line.strip()]


@pytest.fixture
def schema_files(tmpdir):
    registration = tmpdir.join("registration.json")
    registration.write(json.dumps(ADD_ONE_REGISTRATION_SCHEMA))
    result = tmpdir.join("result.json")
    result.write(json.dumps(ADD_ONE_RESULT_SCHEMA))
    return str(registration), str(result)


# topchef: services, service, register

def test_services_lists_each_service_with_its_heartbeat_state(capsys, server, service):
    code, out, err = run(capsys, "services", "--address", server.url)

    assert code == 0, err
    header, row = one_line(out)
    assert header.split() == ["ID", "NAME", "HEARTBEAT", "AVAILABLE"]
    assert row.split()[:3] == [service.id, "AddOne", "alive"]


def test_services_as_json_gives_every_field(capsys, server, service):
    code, out, _ = run(capsys, "services", "--address", server.url, "--json")

    listed = json.loads(out)
    assert code == 0
    assert [entry["id"] for entry in listed] == [service.id]
    assert listed[0]["has_timed_out"] is False


def test_the_address_may_come_from_the_environment(capsys, monkeypatch, server, service):
    monkeypatch.setenv("TOPCHEF_ADDRESS", server.url)

    code, out, _ = run(capsys, "services", "--json")

    assert code == 0
    assert json.loads(out)[0]["id"] == service.id


def test_a_missing_address_is_a_usage_error_in_one_line(capsys, monkeypatch):
    monkeypatch.delenv("TOPCHEF_ADDRESS", raising=False)

    code, out, err = run(capsys, "services")

    assert code == 2
    assert one_line(err) == ["topchef services: error: no server address: give --address URL or "
                             "set $TOPCHEF_ADDRESS"]


def test_service_shows_the_schemas_and_the_jobs(capsys, server, topchef, service):
    job = topchef.submit(service, {"value": 2})

    code, out, _ = run(capsys, "service", service.id, "--address", server.url)

    assert code == 0
    assert "name         AddOne" in out
    assert '"maximum": 10' in out
    assert "jobs         1" in out
    assert job.id in out and "REGISTERED" in out


def test_an_unknown_service_is_a_failure_in_one_line(capsys, server):
    code, _, err = run(capsys, "service", "00000000-0000-4000-8000-000000000000",
                       "--address", server.url)

    assert code == 1
    assert len(one_line(err)) == 1
    assert "00000000-0000-4000-8000-000000000000" in err


def test_register_prints_the_new_service_id(capsys, server, topchef, schema_files):
    registration, result = schema_files

    code, out, _ = run(capsys, "register", "Adder", "--address", server.url,
                       "--registration-schema", registration, "--result-schema", result)

    assert code == 0
    assert [service.id for service in topchef.services()] == [out.strip()]


def test_register_with_a_schema_file_that_is_not_json_is_a_usage_error(
        capsys, server, tmpdir):
    broken = tmpdir.join("broken.json")
    broken.write("{not json")

    code, _, err = run(capsys, "register", "Adder", "--address", server.url,
                       "--registration-schema", str(broken))

    assert code == 2
    assert "broken.json is not JSON" in err


# topchef: submit, job, wait

def test_submit_prints_the_job_id(capsys, server, topchef, service):
    code, out, _ = run(capsys, "submit", service.id, '{"value": 3}', "--address", server.url)

    assert code == 0
    assert topchef.job(out.strip()).parameters == {"value": 3}


def test_submit_refuses_invalid_parameters_before_sending_them(capsys, server, service):
    before = server.request_count

    code, _, err = run(capsys, "submit", service.id, '{"value": 30}', "--address", server.url)

    assert code == 2
    assert one_line(err) == ["topchef submit: error: invalid parameters at value: 30 is greater "
                             "than the maximum of 10 [schema: properties/value/maximum]"]
    # GET / for the generation and GET /services/<id> for the schema; no POST.
    assert server.request_count - before == 2
    assert server.jobs() == []


@pytest.mark.parametrize("parameters, message", [
    ("{not json", "the parameters are not JSON"),
    ("[1, 2]", "the parameters must be a JSON object, not list"),
])
def test_submit_refuses_parameters_that_are_not_a_json_object(
        capsys, server, service, parameters, message):
    code, _, err = run(capsys, "submit", service.id, parameters, "--address", server.url)

    assert code == 2
    assert message in err


def test_submit_reads_parameters_from_a_file(capsys, server, topchef, service, tmpdir):
    parameters = tmpdir.join("parameters.json")
    parameters.write('{"value": 5}')

    code, out, _ = run(capsys, "submit", service.id, "--file", str(parameters),
                       "--address", server.url)

    assert code == 0
    assert topchef.job(out.strip()).parameters == {"value": 5}


def test_submit_and_wait_prints_the_result_once_a_worker_ran_the_job(
        capsys, server, service, make_worker):
    from jobs import AddOne
    make_worker(AddOne).start()

    code, out, _ = run(capsys, "submit", service.id, '{"value": 3}', "--wait",
                       "--timeout", "10", "--address", server.url)

    assert code == 0
    submitted, finished = one_line(out)
    job_id, status, result = finished.split(None, 2)
    assert (job_id, status, json.loads(result)) == (submitted, COMPLETED, {"value": 4})


def test_wait_for_a_job_nobody_runs_times_out_and_says_which(capsys, server, topchef, service):
    job = topchef.submit(service, {"value": 3})

    code, _, err = run(capsys, "wait", job.id, "--timeout", "0.3", "--address", server.url)

    assert code == 1
    assert job.id in err and "REGISTERED" in err


def test_wait_exits_1_when_a_job_failed(capsys, server, topchef, service, make_worker):
    from jobs import Raising
    make_worker(Raising).start()
    job = topchef.submit(service, {"value": 3})

    code, out, _ = run(capsys, "wait", job.id, "--timeout", "10", "--address", server.url)

    assert code == 1
    assert out.split()[:2] == [job.id, "FAILED"]
    # The error message where the result schema had room for it (2016 always).
    failed = topchef.job(job)
    assert ("cannot handle" in out) == (failed.error is not None)


def test_job_shows_status_parameters_and_result_as_json(capsys, server, topchef, service):
    job = topchef.submit(service, {"value": 3})

    code, out, _ = run(capsys, "job", job.id, "--address", server.url, "--json")

    shown = json.loads(out)
    assert code == 0
    assert (shown["id"], shown["status"], shown["parameters"]) == (
        job.id, REGISTERED, {"value": 3})


# topchef-worker

def test_worker_burst_runs_the_queued_jobs_and_exits_0(capsys, server, topchef, service):
    jobs = [topchef.submit(service, {"value": value}) for value in (1, 2, 3)]

    code, _, err = run_worker(capsys, ADD_ONE, "--address", server.url,
                              "--service-id", service.id, "--burst", "--poll-interval", "0.01")

    assert code == 0, err
    assert [topchef.job(job).result for job in jobs] == [{"value": 2}, {"value": 3},
                                                         {"value": 4}]


def test_worker_asks_for_its_service_and_the_generation_once(capsys, proxy, topchef, service):
    job = topchef.submit(service, {"value": 1})
    # Rules that change nothing, to count the requests they match.
    roots = proxy.add_rule(Delay(0), method="GET", path=r"^/$")
    lookups = proxy.add_rule(Delay(0), method="GET", path=r"^/services/%s$" % service.id)

    code, _, err = run_worker(capsys, ADD_ONE, "--address", proxy.url,
                              "--service-id", service.id, "--burst", "--poll-interval", "0.01")

    assert code == 0, err
    assert topchef.job(job).status == COMPLETED
    assert (roots.hits, lookups.hits) == (1, 1)


def test_worker_is_also_python_m_topchef_client_worker(capsys, server, topchef, service):
    job = topchef.submit(service, {"value": 1})

    code, _, _ = run(capsys, "worker", ADD_ONE, "--address", server.url,
                     "--service-id", service.id, "--burst")

    assert code == 0
    assert topchef.job(job).status == COMPLETED


def test_worker_can_register_its_service(capsys, server, topchef, schema_files):
    registration, result = schema_files

    code, out, _ = run_worker(capsys, ADD_ONE, "--address", server.url, "--register", "Adder",
                              "--registration-schema", registration, "--result-schema", result,
                              "--burst")

    assert code == 0
    assert [service.id for service in topchef.services()] == [out.strip()]


@pytest.mark.parametrize("worker_class, message", [
    ("no_such_module_here:Worker", "cannot import no_such_module_here"),
    ("topchef_client.demo:Missing", "module topchef_client.demo has no Missing"),
    ("topchef_client.demo:JOB_RESULT_SCHEMA", "is not a subclass of topchef_client.Client"),
    ("topchef_client.demo", "give the worker class as MODULE:CLASS"),
])
def test_worker_refuses_a_class_it_cannot_use_in_one_line(capsys, server, service,
                                                          worker_class, message):
    code, _, err = run_worker(capsys, worker_class, "--address", server.url,
                              "--service-id", service.id)

    assert code == 2
    assert len(one_line(err)) == 1
    assert message in err


def test_worker_refuses_an_unknown_service_in_one_line(capsys, server):
    code, _, err = run_worker(capsys, ADD_ONE, "--address", server.url,
                              "--service-id", "00000000-0000-4000-8000-000000000000")

    assert code == 1
    assert one_line(err) == ["topchef-worker: error: service 00000000-0000-4000-8000-"
                             "000000000000 does not exist at %s" % server.url]


def test_worker_without_a_service_is_a_usage_error(capsys, server):
    code, _, err = run_worker(capsys, ADD_ONE, "--address", server.url)

    assert code == 2
    assert "give --service-id ID, or --register NAME" in err


@pytest.mark.parametrize("argv, message", [
    (["--threads", "0"], "argument --threads: must be a whole number from 1 to 1024, not 0"),
    (["--threads", "many"], "argument --threads: must be a whole number from 1 to 1024, "
                            "not 'many'"),
    (["--poll-interval", "0"], "argument --poll-interval: must be a number of seconds above "
                               "0, not 0.0"),
    (["--poll-interval", "nan"], "argument --poll-interval: must be a number of seconds "
                                 "above 0, not nan"),
    (["--max-poll-interval", "-1"], "argument --max-poll-interval: must be a number of "
                                    "seconds above 0, not -1.0"),
    (["--heartbeat-interval", "inf"], "argument --heartbeat-interval: must be a number of "
                                      "seconds above 0 up to 3600, not inf"),
    (["--time-limit", "0"], "argument --time-limit: must be a number of seconds above 0"),
    (["--isolation", "fork"], "argument --isolation: must be one of 'thread', 'process', "
                              "not 'fork'"),
    (["--max-retries", "-1"], "argument --max-retries: must be a whole number from 0, not -1"),
    (["--max-jobs", "0"], "argument --max-jobs: must be a whole number from 1, not 0"),
    (["--max-idle-time", "soon"], "argument --max-idle-time: must be a number of seconds "
                                  "above 0, not 'soon'"),
    (["--service-timeout", "1.5"], "argument --service-timeout: must be a whole number "
                                   "from 1, not 1.5"),
    (["--retries", "-2"], "argument --retries: must be a whole number from 0 to 100, not -2"),
    (["--request-timeout", "0"], "argument --request-timeout: must be a number of seconds "
                                 "above 0 up to 86400, not 0.0"),
    (["--log-level", "loud"], "argument --log-level: must be one of 'DEBUG', 'INFO', "
                              "'WARNING', 'ERROR', 'CRITICAL', not 'loud'"),
])
def test_each_worker_option_is_checked_in_one_line_naming_option_value_and_rule(
        capsys, argv, message):
    with pytest.raises(SystemExit) as exited:
        cli.worker_main([ADD_ONE, "--service-id", "00000000-0000-4000-8000-000000000000"] +
                        argv)

    err = capsys.readouterr().err
    assert exited.value.code == 2
    line, = one_line(err)
    assert line.startswith("topchef-worker: error: " + message)
    assert line.endswith(" (see topchef-worker --help)")


@pytest.mark.parametrize("argv, message", [
    (["wait", "x", "--timeout", "0"], "argument --timeout: must be a number of seconds above 0"),
    (["submit", "x", "{}", "--wait", "--timeout", "-5"], "argument --timeout: must be a number "
                                                        "of seconds above 0, not -5.0"),
    (["jobs", "x", "--status", "done"], "argument --status: must be one of 'REGISTERED', "
                                        "'WORKING', 'COMPLETED', 'ERROR', not 'done'"),
    (["register", "x", "--registration-schema", "f", "--service-timeout", "0"],
     "argument --service-timeout: must be a whole number from 1, not 0"),
    (["demo", "--jobs", "0"], "argument --jobs: must be a whole number from 1 to 10000, not 0"),
    (["demo", "--generation", "2018"], "argument --generation: must be one of '2016', '2017', "
                                       "not '2018'"),
    (["--retries", "x", "services"], "argument --retries: must be a whole number from 0 to "
                                     "100, not 'x'"),
])
def test_each_topchef_option_is_checked_in_one_line(capsys, argv, message):
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)

    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert len(one_line(err)) == 1
    assert message in err


def test_register_takes_the_service_timeout_under_its_one_name_and_the_old_one(
        capsys, server, topchef, schema_files):
    registration, _ = schema_files

    _, out, _ = run(capsys, "register", "A", "--address", server.url,
                    "--registration-schema", registration, "--service-timeout", "45")
    _, old, _ = run(capsys, "register", "B", "--address", server.url,
                    "--registration-schema", registration, "--timeout", "45")

    timeouts = [topchef.service(out.strip()).timeout, topchef.service(old.strip()).timeout]
    assert timeouts == ([45, 45] if server.generation == "2017" else [30, 30])


def test_the_old_name_of_the_service_timeout_is_not_advertised(capsys):
    with pytest.raises(SystemExit):
        cli.main(["register", "--help"])

    shown = capsys.readouterr().out
    assert "--service-timeout" in shown
    assert "--timeout" not in shown.replace("--service-timeout", "")


# The demo

@pytest.mark.parametrize("generation", ["2016", "2017"])
def test_the_demo_runs_add_one_end_to_end_against_a_local_server(capsys, generation):
    code, out, _ = run(capsys, "demo", "--generation", generation, "--jobs", "5")

    assert code == 0
    assert "started a local TopChef %s server" % generation in out
    assert out.count(" -> ") == 5
    assert '{"value": 1} -> {"value": 2}' in out
    assert "HTTP requests" in out
    # The progress printer that topchef wait uses on a terminal, one line per step here.
    progress = [line for line in out.splitlines() if line.endswith(" finished")]
    assert progress[-1] == "  5/5 finished"
    assert len(set(progress)) == len(progress)


def test_the_demo_refuses_an_address_that_is_no_url_in_one_line(capsys):
    code, out, err = run(capsys, "demo", "--address", "localhost")

    assert code == 2
    assert one_line(err) == ["topchef demo: error: --address: address must be an http:// or "
                             "https:// URL such as http://localhost:5000, not 'localhost'"]


def test_the_demo_can_use_a_given_server(capsys, server):
    code, out, _ = run(capsys, "demo", "--address", server.url, "--jobs", "3")

    assert code == 0
    assert "started a local" not in out
    with TopChef(server.url) as topchef:
        assert [service.name for service in topchef.services()] == ["AddOne"]


# The documentation

def _read(*parts):
    with io.open(os.path.join(REPO_ROOT, *parts), encoding="utf-8") as stream:
        return stream.read()


def _options(parser):
    """Every long option of ``parser`` and of its commands, but hidden ones: {command: set}."""
    found = {None: set()}
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found[name] = _options(sub)[None]
        elif action.help != argparse.SUPPRESS:
            found[None].update(option for option in action.option_strings
                               if option.startswith("--") and option != "--help")
    return found


def test_docs_cli_rst_shows_every_command_and_option():
    from topchef_client.testing import __main__ as server_command
    docs = _read("docs", "cli.rst")

    everything = _options(cli.main_parser())
    everything["topchef-worker"] = _options(cli.worker_parser())[None]
    everything["server"] = _options(server_command.make_parser())[None]
    for command, options in everything.items():
        if command not in (None, "topchef-worker", "server"):
            assert "``topchef %s" % command in docs, command
        for option in options:
            assert "``%s" % option in docs, (command, option)


def test_the_readme_shows_every_topchef_command():
    section = _read("README.md").split("## Command line", 1)[1].split("\n## ", 1)[0]
    commands = set(_options(cli.main_parser())) - set([None, "demo"])
    for command in commands:
        assert "topchef %s" % command in section or (
            command == "worker" and "topchef-worker" in section), command
