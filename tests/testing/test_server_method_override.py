# -*- coding: utf-8 -*-
"""X-HTTP-Method-Override: honoured by 2017 middleware, ignored by 2016.

See docs/server-api.rst §3.5 and §2.1.
"""
import json

import pytest

from topchef_conformance import allowed_methods, html_body, json_body, empty_body

OVERRIDE = "X-HTTP-Method-Override"


def overridden(topchef, method, path, override, body=None):
    headers = {OVERRIDE: override}
    if body is None:
        return topchef.request(method, path, headers=headers)
    headers["Content-Type"] = "application/json"
    return topchef.request(method, path, headers=headers, data=json.dumps(body))


# --- generation 2017 ------------------------------------------------------------------

@pytest.mark.parametrize("override", ["PATCH", "patch", "Patch"])
def test_post_with_a_patch_override_is_a_heartbeat(clocked_topchef_2017, override):
    topchef = clocked_topchef_2017
    service_id = topchef.register_service()
    topchef.clock.advance(20)
    response = overridden(topchef, "POST", "/services/" + service_id, override)
    assert json_body(response, 200) == {"meta": "Service checked in at 2017-07-14T02:40:20"}
    topchef.clock.advance(20)
    assert topchef.timed_out(service_id) is False


def test_post_with_a_patch_override_and_a_body_modifies_the_service(topchef_2017):
    service_id = topchef_2017.register_service()
    response = overridden(topchef_2017, "POST", "/services/" + service_id, "patch",
                          {"is_available": True})
    body = json_body(response, 200)
    assert set(body) == {"data", "links", "meta"}
    assert topchef_2017.service(service_id)["is_service_available"] is True


def test_get_with_a_patch_override_and_a_body_updates_a_job(topchef_2017):
    job_id = topchef_2017.submit_job(topchef_2017.register_service())
    response = overridden(topchef_2017, "GET", "/jobs/" + job_id, "PATCH", {"status": "WORKING"})
    assert json_body(response, 200)["status"] == "WORKING"
    assert topchef_2017.job(job_id)["status"] == "WORKING"


def test_post_with_a_get_override_lists_jobs_and_drops_the_body(topchef_2017):
    service_id = topchef_2017.register_service()
    job_id = topchef_2017.submit_job(service_id)
    response = overridden(topchef_2017, "POST", "/services/%s/jobs" % service_id, "GET",
                          {"parameters": {"value": 1}})
    body = json_body(response, 200)
    assert [job["id"] for job in body["data"]] == [job_id]
    assert len(json_body(topchef_2017.get("/jobs"), 200)["data"]) == 1


def test_post_with_a_get_override_on_the_validator_describes_it(topchef_2017):
    response = overridden(topchef_2017, "POST", "/validator", "GET",
                          {"object": {}, "schema": {}})
    assert json_body(response, 200)["data"] == {}


@pytest.mark.parametrize("override", ["DELETE", "PUT", "HEAD"])
def test_an_override_to_a_method_no_route_accepts_is_a_405(topchef_2017, override):
    service_id = topchef_2017.register_service()
    response = overridden(topchef_2017, "POST", "/services/" + service_id, override,
                          {"is_available": True})
    assert response.status_code == 405
    if override != "HEAD":
        html_body(response, 405)
    assert topchef_2017.service(service_id)["is_service_available"] is False


def test_an_options_override_answers_like_options(topchef_2017):
    response = overridden(topchef_2017, "POST", "/services", "OPTIONS", {"name": "x"})
    empty_body(response, 200)
    assert {"GET", "POST"} <= allowed_methods(response)
    assert json_body(topchef_2017.get("/services"), 200)["data"] == []


@pytest.mark.parametrize("override", ["FROB", "", "PATCH GET"])
def test_an_unknown_override_value_is_ignored(topchef_2017, override):
    response = overridden(topchef_2017, "GET", "/services", override)
    assert json_body(response, 200)["data"] == []
    service_id = topchef_2017.register_service()
    html_body(overridden(topchef_2017, "POST", "/services/" + service_id, override), 405)


# --- generation 2016 ------------------------------------------------------------------

def test_the_override_header_is_ignored_in_2016(clocked_topchef_2016):
    topchef = clocked_topchef_2016
    service_id = topchef.register_service()
    topchef.clock.advance(20)
    response = overridden(topchef, "POST", "/services/" + service_id, "PATCH")
    html_body(response, 405)
    topchef.clock.advance(20)
    assert topchef.timed_out(service_id) is True


def test_a_put_override_on_get_job_is_ignored_in_2016(topchef_2016):
    job_id = topchef_2016.submit_job(topchef_2016.register_service())
    response = overridden(topchef_2016, "GET", "/jobs/" + job_id, "PUT",
                          {"status": "COMPLETED", "result": {}, "parameters": {"value": 1}})
    assert json_body(response, 200)["data"]["status"] == "REGISTERED"
    assert topchef_2016.job(job_id)["status"] == "REGISTERED"


def test_a_get_override_on_post_services_is_ignored_in_2016(topchef_2016):
    body = topchef_2016.registration_body()
    response = overridden(topchef_2016, "POST", "/services", "GET", body)
    json_body(response, 201)
