"""The command line: ``topchef``, ``topchef-worker`` and ``python -m topchef_client demo``.

Most commands run in this process through ``cli.main(argv)``; those that must
meet signals or exit run as subprocesses.
"""
import json
import signal

import pytest

from topchef_client import COMPLETED, REGISTERED, TopChef, cli

from jobs import ADD_ONE_REGISTRATION_SCHEMA, ADD_ONE_RESULT_SCHEMA
from support import wait_until

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
    assert one_line(err) == ["topchef: error: no server address: give --address URL or "
                             "set $TOPCHEF_ADDRESS"]


def test_an_unreachable_server_fails_in_one_line(capsys):
    code, _, err = run(capsys, "services", "--address", "http://127.0.0.1:9")

    assert code == 1
    assert len(one_line(err)) == 1
    assert "http://127.0.0.1:9/" in err


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
    assert one_line(err) == ["topchef: error: invalid parameters at value: 30 is greater "
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
    job_id, status, result = out.split(None, 2)
    assert (status, json.loads(result)) == (COMPLETED, {"value": 4})


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


def test_worker_refuses_an_unreachable_server_in_one_line(capsys):
    code, _, err = run_worker(capsys, ADD_ONE, "--address", "http://127.0.0.1:9",
                              "--service-id", "00000000-0000-4000-8000-000000000000")

    assert code == 1
    assert len(one_line(err)) == 1
    assert "cannot reach http://127.0.0.1:9" in err


def test_worker_without_a_service_is_a_usage_error(capsys, server):
    code, _, err = run_worker(capsys, ADD_ONE, "--address", server.url)

    assert code == 2
    assert "give --service-id ID, or --register NAME" in err


def test_bad_arguments_exit_2(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.worker_main([ADD_ONE, "--threads", "many"])
    assert exited.value.code == 2


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_worker_logs_a_line_per_job_and_exits_0_on_a_signal(
        scripts, server, topchef, service, signum):
    script = scripts.start("""
        import sys
        from topchef_client.cli import worker_main
        sys.exit(worker_main(["%s", "--address", "%s", "--service-id", "%s",
                              "--poll-interval", "0.01", "--max-poll-interval", "0.05"]))
    """ % (ADD_ONE, server.url, service.id))
    job = topchef.submit(service, {"value": 1})
    wait_until(lambda: topchef.job(job).status == COMPLETED)
    script.wait_for_log("job %s completed" % job.id)

    script.send_signal(signum)

    assert script.wait() == 0
    assert "stopped:" in script.log()


# The demo

@pytest.mark.parametrize("generation", ["2016", "2017"])
def test_the_demo_runs_add_one_end_to_end_against_a_local_server(capsys, generation):
    code, out, _ = run(capsys, "demo", "--generation", generation, "--jobs", "5")

    assert code == 0
    assert "started a local TopChef %s server" % generation in out
    assert out.count(" -> ") == 5
    assert '{"value": 1} -> {"value": 2}' in out
    assert "HTTP requests" in out


def test_the_demo_can_use_a_given_server(capsys, server):
    code, out, _ = run(capsys, "demo", "--address", server.url, "--jobs", "3")

    assert code == 0
    assert "started a local" not in out
    with TopChef(server.url) as topchef:
        assert [service.name for service in topchef.services()] == ["AddOne"]
