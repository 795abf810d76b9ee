# -*- coding: utf-8 -*-
"""GET /services/<id> and has_timed_out boundaries.

See docs/server-api.rst §2.4, §2.5, §3.3, §3.4; quirk unknown-service-500.
"""
import pytest

from topchef_conformance import (
    DEFAULT_REGISTRATION_SCHEMA, DEFAULT_RESULT_SCHEMA, NOT_A_UUID, SERVICE_NOT_FOUND,
    UNKNOWN_UUID, assert_not_a_uuid_2017, assert_single_error_2017, assert_timestamp,
    html_body, json_body)

DETAIL_KEYS_2016 = {"description", "has_timed_out", "id", "job_registration_schema",
                    "job_result_schema", "name", "url"}
DETAIL_KEYS_2017 = {"description", "has_timed_out", "id", "is_service_available",
                    "job_registration_schema", "job_result_schema", "jobs", "name", "timeout"}


def test_the_2016_detail_is_the_summary_plus_description_and_schemas(topchef_2016):
    service_id = topchef_2016.register_service(name="Adder", description="Adds one")
    body = json_body(topchef_2016.get("/services/" + service_id), 200)
    assert set(body) == {"data"}
    assert body["data"] == {
        "description": "Adds one",
        "has_timed_out": False,
        "id": service_id,
        "job_registration_schema": DEFAULT_REGISTRATION_SCHEMA,
        "job_result_schema": {"type": "object"},
        "name": "Adder",
        "url": topchef_2016.url("/services/" + service_id),
    }


def test_the_2017_detail_has_availability_timeout_and_jobs_but_no_url(topchef_2017):
    service_id = topchef_2017.register_service(name="Adder", description="Adds one")
    body = json_body(topchef_2017.get("/services/" + service_id), 200)
    assert set(body) == {"data", "links", "meta"}
    assert body["links"] == {"self": topchef_2017.url("/services/" + service_id)}
    assert "service_schema" in body["meta"]
    assert body["data"] == {
        "description": "Adds one",
        "has_timed_out": False,
        "id": service_id,
        "is_service_available": False,
        "job_registration_schema": DEFAULT_REGISTRATION_SCHEMA,
        "job_result_schema": DEFAULT_RESULT_SCHEMA,
        "jobs": [],
        "name": "Adder",
        "timeout": 30,
    }


def test_the_2017_detail_lists_every_job_of_the_service_as_an_overview(topchef_2017):
    service_id = topchef_2017.register_service()
    other_service = topchef_2017.register_service()
    first = topchef_2017.submit_job(service_id)
    second = topchef_2017.submit_job(service_id)
    topchef_2017.submit_job(other_service)
    topchef_2017.update_job(second, status="COMPLETED", result={"sum": 2})
    jobs = topchef_2017.service(service_id)["jobs"]
    assert [job["id"] for job in jobs] == [first, second]
    assert [job["status"] for job in jobs] == ["REGISTERED", "COMPLETED"]
    for job in jobs:
        assert set(job) == {"date_submitted", "id", "status"}
        assert_timestamp(job["date_submitted"])


def test_a_non_uuid_service_id_is_a_404_in_2016(topchef_2016):
    response = topchef_2016.get("/services/" + NOT_A_UUID)
    assert json_body(response, 404) == {
        "errors": "The service id %s is not a UUID. No service with this id exists" % NOT_A_UUID}


def test_an_unknown_service_detail_is_a_500_html_page_in_2016(topchef_2016):
    html_body(topchef_2016.get("/services/" + UNKNOWN_UUID), 500)


def test_a_non_uuid_service_id_is_a_not_uuid_error_in_2017(topchef_2017):
    response = topchef_2017.get("/services/" + NOT_A_UUID)
    assert_not_a_uuid_2017(response)


def test_an_unknown_service_detail_is_a_service_not_found_in_2017(topchef_2017):
    response = topchef_2017.get("/services/" + UNKNOWN_UUID)
    assert_single_error_2017(response, 404, SERVICE_NOT_FOUND,
                             "A service with UUID %s does not exist" % UNKNOWN_UUID)


# --- has_timed_out with a ManualClock -----------------------------------------------------

@pytest.mark.parametrize("generation, seconds, timed_out", [
    ("2016", 29.5, False),  # 2016: has timed out at 30 s and after (>=)
    ("2016", 30, True),
    ("2017", 30, False),    # 2017: only after its timeout, 30 s by default (>)
    ("2017", 30.5, True),
])
def test_has_timed_out_counts_from_the_last_check_in(generation, seconds, timed_out, request):
    topchef = request.getfixturevalue("clocked_topchef_" + generation)
    service_id = topchef.register_service()
    topchef.clock.advance(seconds)
    assert topchef.timed_out(service_id) is timed_out


def test_the_2016_list_reports_has_timed_out_too(clocked_topchef_2016):
    service_id = clocked_topchef_2016.register_service()
    clocked_topchef_2016.clock.advance(30)
    items = json_body(clocked_topchef_2016.get("/services"), 200)["data"]
    assert [(item["id"], item["has_timed_out"]) for item in items] == [(service_id, True)]


def test_a_2017_service_times_out_after_a_timeout_set_by_patch(clocked_topchef_2017):
    service_id = clocked_topchef_2017.register_service()
    json_body(clocked_topchef_2017.send_json("PATCH", "/services/" + service_id,
                                             {"timeout": 5}), 200)
    clocked_topchef_2017.clock.advance(5)
    assert clocked_topchef_2017.timed_out(service_id) is False
    clocked_topchef_2017.clock.advance(0.5)
    assert clocked_topchef_2017.timed_out(service_id) is True


def test_a_timed_out_service_is_alive_again_after_a_heartbeat(clocked_topchef):
    service_id = clocked_topchef.register_service()
    clocked_topchef.clock.advance(100)
    assert clocked_topchef.timed_out(service_id) is True
    clocked_topchef.heartbeat(service_id)
    assert clocked_topchef.timed_out(service_id) is False


@pytest.mark.parametrize("seconds", [1e6, 86400 * 365])
def test_a_service_stays_timed_out_however_long_the_silence(clocked_topchef, seconds):
    service_id = clocked_topchef.register_service()
    clocked_topchef.clock.advance(seconds)
    assert clocked_topchef.timed_out(service_id) is True


def test_2017_availability_is_not_combined_with_has_timed_out(clocked_topchef_2017):
    service_id = clocked_topchef_2017.register_service()
    json_body(clocked_topchef_2017.send_json("PATCH", "/services/" + service_id,
                                             {"is_available": True}), 200)
    clocked_topchef_2017.clock.advance(100)
    detail = clocked_topchef_2017.service(service_id)
    assert detail["has_timed_out"] is True
    assert detail["is_service_available"] is True
