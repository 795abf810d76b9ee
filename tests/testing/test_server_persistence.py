"""Persistence in an SQLite file: a LocalServer stopped and started again on the same file,
and a subprocess server killed with SIGKILL and restarted, lose nothing answered 2xx."""
import json
import os
import signal

import pytest

from topchef_conformance import (
    GENERATIONS, START, ServerProcess, TopChef, json_body)


class _Remote(object):
    """Just enough of a LocalServer for TopChef to talk to a subprocess."""

    def __init__(self, url, generation):
        self.url = url
        self.generation = generation
        self.clock = None


def populate(topchef):
    """Create services and jobs in varied states; every call must answer 2xx."""
    first = topchef.register_service(name="First", description="one")
    second = topchef.register_service(
        name="Second", description="two",
        registration_schema={"type": "object", "properties": {"value": {"type": "integer"}},
                             "required": ["value"], "title": "kept in 2017"},
        result_schema={"type": "object", "title": "result"})
    jobs = [topchef.submit_job(first, {"value": index}) for index in range(3)]
    jobs.append(topchef.submit_job(second, {"value": 9}))
    topchef.update_job(jobs[0], status="COMPLETED", result={"sum": 1})
    topchef.update_job(jobs[1], status="WORKING")
    if topchef.generation == "2017":
        topchef.update_job(jobs[3], status="error", result={"sum": -1})
        json_body(topchef.send_json("PATCH", "/services/" + second,
                                    {"is_available": True, "timeout": 45,
                                     "description": "changed", "name": "Renamed"}), 200)
    topchef.heartbeat(first)
    return [first, second], jobs


def _strip(value, drop_timing):
    if isinstance(value, dict):
        return dict((key, _strip(item, drop_timing)) for key, item in value.items()
                    if not (drop_timing and key == "has_timed_out"))
    if isinstance(value, list):
        return [_strip(item, drop_timing) for item in value]
    return value


def state(topchef, services, jobs, drop_timing=False):
    """Every readable fact about the server, with its own URL replaced by a placeholder."""
    seen = {}
    paths = ["/services", "/jobs"]
    for service_id in services:
        paths += ["/services/" + service_id, "/services/%s/jobs" % service_id,
                  "/services/%s/queue" % service_id]
    paths += ["/jobs/" + job_id for job_id in jobs]
    for path in paths:
        response = topchef.get(path)
        if response.status_code == 204:
            seen[path] = 204
        else:
            seen[path] = _strip(json_body(response, 200)["data"], drop_timing)
    text = json.dumps(seen, sort_keys=True)
    return json.loads(text.replace(topchef.server.url, "URL"))


@pytest.mark.parametrize("generation", GENERATIONS)
def test_a_server_restarted_on_the_same_file_keeps_everything(tmpdir, generation):
    from topchef_client.testing import LocalServer, ManualClock

    path = str(tmpdir.join("topchef.sqlite"))
    server = LocalServer(generation=generation, db=path, clock=ManualClock(START)).start()
    try:
        topchef = TopChef(server)
        services, jobs = populate(topchef)
        server.clock.advance(10)
        before = state(topchef, services, jobs)
        topchef.close()
    finally:
        server.stop()
    assert os.path.exists(path)

    server = LocalServer(generation=generation, db=path, clock=ManualClock(START + 10)).start()
    try:
        topchef = TopChef(server)
        assert state(topchef, services, jobs) == before
        # It goes on working, and new jobs come after the old ones.
        new_job = topchef.submit_job(services[0])
        listed = json_body(topchef.get("/services/%s/jobs" % services[0]), 200)["data"]
        assert [job["id"] for job in listed] == jobs[:3] + [new_job]
        server.clock.advance(100)
        assert topchef.timed_out(services[0]) is True
        topchef.close()
    finally:
        server.stop()


@pytest.mark.parametrize("generation", GENERATIONS)
def test_a_server_started_on_an_unused_file_is_empty(tmpdir, generation):
    from topchef_client.testing import LocalServer

    path = str(tmpdir.join("new.sqlite"))
    with LocalServer(generation=generation, db=path) as server:
        topchef = TopChef(server)
        assert json_body(topchef.get("/services"), 200)["data"] == []
        assert json_body(topchef.get("/jobs"), 200)["data"] == []
        topchef.close()


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs SIGKILL")
@pytest.mark.parametrize("generation", GENERATIONS)
def test_a_killed_process_loses_nothing_it_answered_with_2xx(tmpdir, generation):
    path = str(tmpdir.join("killed.sqlite"))
    args = ["--db", path, "--port", "0", "--generation", generation]
    with ServerProcess(args) as process:
        topchef = TopChef(_Remote(process.first_line(), generation))
        services, jobs = populate(topchef)
        before = state(topchef, services, jobs, drop_timing=True)
        topchef.close()
        process.send_signal(signal.SIGKILL)
        assert process.wait() is not None

    with ServerProcess(args) as process:
        topchef = TopChef(_Remote(process.first_line(), generation))
        assert state(topchef, services, jobs, drop_timing=True) == before
        topchef.close()
