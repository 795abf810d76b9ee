"""The LocalServer / ManualClock Python API that tests rely on (not the HTTP API)."""
import re
import time

import pytest
import requests

from topchef_conformance import (
    GENERATIONS, REQUEST_TIMEOUT, START, TopChef, html_body, json_body)


def test_a_manual_clock_starts_at_the_given_time_and_moves_only_when_told():
    from topchef_client.testing import ManualClock

    clock = ManualClock(start=1000.0)
    assert clock() == 1000.0
    assert clock() == 1000.0
    clock.advance(2.5)
    assert clock() == 1002.5
    clock.set(50.0)
    assert clock() == 50.0


def test_a_manual_clock_defaults_to_1500000000():
    from topchef_client.testing import ManualClock

    assert ManualClock()() == START


@pytest.mark.parametrize("generation", GENERATIONS)
def test_a_local_server_is_a_context_manager_on_a_loopback_port(generation):
    from topchef_client.testing import LocalServer

    with LocalServer(generation=generation) as server:
        assert server.generation == generation
        assert re.match(r"^http://127\.0\.0\.1:\d+$", server.url), server.url
        assert requests.get(server.url + "/", timeout=REQUEST_TIMEOUT).status_code == 200
        url = server.url
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/", timeout=REQUEST_TIMEOUT)


def test_start_returns_the_server_and_the_default_clock_is_wall_time():
    from topchef_client.testing import LocalServer

    server = LocalServer(generation="2017")
    try:
        assert server.start() is server
        assert abs(server.clock() - time.time()) < 60
    finally:
        server.stop()


def test_the_clock_given_is_the_clock_used(clocked_topchef):
    from topchef_client.testing import ManualClock

    assert isinstance(clocked_topchef.clock, ManualClock)
    assert clocked_topchef.server.clock is clocked_topchef.clock
    assert clocked_topchef.clock() == START


def test_reset_forgets_services_jobs_and_the_request_count(topchef):
    service_id = topchef.register_service()
    topchef.submit_job(service_id)
    topchef.server.reset()
    assert topchef.server.request_count == 0
    assert json_body(topchef.get("/services"), 200)["data"] == []
    assert json_body(topchef.get("/jobs"), 200)["data"] == []


def test_the_request_count_counts_every_answered_request(topchef):
    topchef.server.reset()
    topchef.get("/")
    topchef.get("/nonexistent")
    topchef.send_json("POST", "/services", topchef.registration_body())
    assert topchef.server.request_count == 3


def test_delete_service_removes_a_service_and_its_jobs_only(topchef):
    doomed = topchef.register_service()
    kept = topchef.register_service()
    doomed_job = topchef.submit_job(doomed)
    kept_job = topchef.submit_job(kept)
    topchef.server.delete_service(doomed)
    response = topchef.get("/services/" + doomed)
    if topchef.generation == "2016":
        html_body(response, 500)
    else:
        json_body(response, 404)
    json_body(topchef.get("/jobs/" + doomed_job), 404)
    assert [item["id"] for item in json_body(topchef.get("/services"), 200)["data"]] == [kept]
    assert [item["id"] for item in json_body(topchef.get("/jobs"), 200)["data"]] == [kept_job]
    assert topchef.job(kept_job)["status"] == "REGISTERED"


def test_two_servers_do_not_share_state():
    from topchef_client.testing import LocalServer

    with LocalServer(generation="2017") as first:
        with LocalServer(generation="2017") as second:
            assert first.url != second.url
            one = TopChef(first)
            one.register_service()
            two = TopChef(second)
            assert json_body(two.get("/services"), 200)["data"] == []
            one.close()
            two.close()
