# -*- coding: utf-8 -*-
"""PATCH /services/<id>: heartbeat (2016) and heartbeat + modification (2017).

See docs/server-api.rst §2.5 and §3.4; quirks heartbeat-404-text,
heartbeat-400-still-counts, heartbeat-reply-shapes, zero-timeout-500 and
heartbeat-before-validation. Check-ins are verified with the ManualClock: a service
that checked in ``t`` seconds ago has timed out or not depending on ``t``.
"""

import pytest

from topchef_conformance import (
    DESERIALIZATION_ERROR, INVALID_INPUT_TYPE, NOT_A_BOOLEAN, NOT_A_PERIOD, NOT_A_STRING,
    NOT_A_UUID, NOT_NULL, SERVICE_NOT_FOUND, START, UNKNOWN_UUID, assert_not_a_uuid_2017,
    assert_single_error_2017, deserialization_detail, errors_2017, html_body, iso_to_epoch,
    json_body)


def _checked_in_at(text, prefix):
    assert text.startswith(prefix), text
    return iso_to_epoch(text[len(prefix):], with_offset=False)


def assert_checked_in_recently(topchef, service_id, seconds_ago=20):
    """With the clock ``seconds_ago`` after a check-in, the service is alive; 30 s later not."""
    topchef.clock.advance(seconds_ago)
    assert topchef.timed_out(service_id) is False
    topchef.clock.advance(31)
    assert topchef.timed_out(service_id) is True


def advance_past_registration(topchef, service_id, seconds=20):
    topchef.clock.advance(seconds)
    assert topchef.timed_out(service_id) is False


# --- generation 2016 -------------------------------------------------------------

def test_a_2016_heartbeat_without_body_answers_data_with_the_utc_check_in_time(
        clocked_topchef_2016):
    topchef = clocked_topchef_2016
    service_id = topchef.register_service()
    topchef.clock.advance(29)
    body = json_body(topchef.patch("/services/" + service_id), 200)
    assert set(body) == {"data"}
    assert body["data"] == "service %s checked in at 2017-07-14T02:40:29" % service_id
    assert_checked_in_recently(topchef, service_id)


def test_a_2016_heartbeat_time_keeps_its_microseconds(clocked_topchef_2016):
    topchef = clocked_topchef_2016
    service_id = topchef.register_service()
    topchef.clock.advance(1.25)
    body = json_body(topchef.patch("/services/" + service_id), 200)
    stamp = _checked_in_at(body["data"], "service %s checked in at " % service_id)
    assert stamp == START + 1.25


def test_a_2016_heartbeat_with_a_non_json_content_type_answers_data(clocked_topchef_2016):
    topchef = clocked_topchef_2016
    service_id = topchef.register_service()
    advance_past_registration(topchef, service_id)
    response = topchef.send_raw("PATCH", "/services/" + service_id, '{"x": 1}', "text/plain")
    body = json_body(response, 200)
    assert set(body) == {"data"}
    assert body["data"].startswith("service %s checked in at " % service_id)
    assert_checked_in_recently(topchef, service_id)


@pytest.mark.parametrize("raw", ["{}", "[]", "null", "0", "false", '""'],
                         ids=["empty-object", "empty-array", "null", "zero", "false",
                              "empty-string"])
def test_a_2016_heartbeat_with_falsy_json_answers_data(clocked_topchef_2016, raw):
    topchef = clocked_topchef_2016
    service_id = topchef.register_service()
    advance_past_registration(topchef, service_id)
    response = topchef.send_raw("PATCH", "/services/" + service_id, raw, "application/json")
    body = json_body(response, 200)
    assert set(body) == {"data"}
    assert body["data"].startswith("service %s checked in at " % service_id)
    assert_checked_in_recently(topchef, service_id)


@pytest.mark.parametrize("value", [{"x": 1}, [1], 1, "a", True],
                         ids=["object", "array", "one", "string", "true"])
def test_a_2016_heartbeat_with_truthy_json_answers_meta_with_local_time(
        clocked_topchef_2016, value):
    topchef = clocked_topchef_2016
    service_id = topchef.register_service()
    advance_past_registration(topchef, service_id)
    response = topchef.send_json("PATCH", "/services/" + service_id, value)
    body = json_body(response, 200)
    assert set(body) == {"meta"}
    prefix = "service %s has heartbeated at " % service_id
    _checked_in_at(body["meta"], prefix)
    assert_checked_in_recently(topchef, service_id)


@pytest.mark.parametrize("raw", ["", '{"x": ', "not json"],
                         ids=["empty", "truncated", "garbage"])
def test_a_2016_heartbeat_with_a_bad_json_body_is_a_400_page_but_still_checks_in(
        clocked_topchef_2016, raw):
    topchef = clocked_topchef_2016
    service_id = topchef.register_service()
    advance_past_registration(topchef, service_id)
    response = topchef.send_raw("PATCH", "/services/" + service_id, raw, "application/json")
    html_body(response, 400)
    assert_checked_in_recently(topchef, service_id)


def test_a_2016_heartbeat_for_a_non_uuid_is_a_404(topchef_2016):
    response = topchef_2016.patch("/services/" + NOT_A_UUID)
    assert json_body(response, 404) == {"errors": "Unable to parse id %s as a UUID" % NOT_A_UUID}


def test_a_2016_heartbeat_for_an_unknown_service_is_a_404_with_the_literal_percent_s(
        topchef_2016):
    response = topchef_2016.patch("/services/" + UNKNOWN_UUID)
    assert json_body(response, 404) == {"errors": "The job with id %s does not exist"}


def test_a_2016_heartbeat_ignores_a_body_that_looks_like_a_modification(topchef_2016):
    service_id = topchef_2016.register_service(name="Adder")
    response = topchef_2016.send_json("PATCH", "/services/" + service_id,
                                      {"name": "Renamed", "timeout": 5})
    json_body(response, 200)
    assert topchef_2016.service(service_id)["name"] == "Adder"


# --- generation 2017: the plain heartbeat ----------------------------------------------

def test_a_2017_heartbeat_without_body_answers_only_meta_with_the_utc_time(clocked_topchef_2017):
    topchef = clocked_topchef_2017
    service_id = topchef.register_service()
    topchef.clock.advance(29)
    body = json_body(topchef.patch("/services/" + service_id), 200)
    assert body == {"meta": "Service checked in at 2017-07-14T02:40:29"}
    assert_checked_in_recently(topchef, service_id)


@pytest.mark.parametrize("raw, content_type", [
    ('{"is_available": true}', "text/plain"),
    ("", "application/json"),
    ('{"is_available": ', "application/json"),
    ("null", "application/json"),
], ids=["text-plain", "empty", "malformed", "null"])
def test_a_2017_patch_without_usable_json_is_a_plain_check_in(
        clocked_topchef_2017, raw, content_type):
    topchef = clocked_topchef_2017
    service_id = topchef.register_service()
    advance_past_registration(topchef, service_id)
    response = topchef.send_raw("PATCH", "/services/" + service_id, raw, content_type)
    body = json_body(response, 200)
    assert set(body) == {"meta"}
    _checked_in_at(body["meta"], "Service checked in at ")
    assert topchef.service(service_id)["is_service_available"] is False
    assert_checked_in_recently(topchef, service_id)


def test_a_2017_heartbeat_does_not_change_availability(topchef_2017):
    service_id = topchef_2017.register_service()
    topchef_2017.send_json("PATCH", "/services/" + service_id, {"is_available": True})
    topchef_2017.heartbeat(service_id)
    assert topchef_2017.service(service_id)["is_service_available"] is True


def test_a_2017_heartbeat_for_a_non_uuid_is_a_not_uuid_error(topchef_2017):
    assert_not_a_uuid_2017(topchef_2017.patch("/services/" + NOT_A_UUID))


def test_a_2017_heartbeat_for_an_unknown_service_is_a_service_not_found(topchef_2017):
    assert_single_error_2017(topchef_2017.patch("/services/" + UNKNOWN_UUID), 404,
                             SERVICE_NOT_FOUND,
                             "A service with UUID %s does not exist" % UNKNOWN_UUID)


# --- generation 2017: modification -----------------------------------------------------

def modify(topchef, service_id, value):
    return topchef.send_json("PATCH", "/services/" + service_id, value)


def test_a_2017_patch_with_an_empty_object_answers_like_get_and_checks_in(clocked_topchef_2017):
    topchef = clocked_topchef_2017
    service_id = topchef.register_service()
    advance_past_registration(topchef, service_id)
    before = json_body(topchef.get("/services/" + service_id), 200)
    body = json_body(modify(topchef, service_id, {}), 200)
    assert set(body) == {"data", "links", "meta"}
    assert body["data"] == before["data"]
    assert body["links"] == {"self": topchef.url("/services/" + service_id)}
    assert "service_schema" in body["meta"]
    assert_checked_in_recently(topchef, service_id)


@pytest.mark.parametrize("value, expected", [
    (True, True), (False, False), (1, True), (0, False),
    ("true", True), ("False", False), ("1", True), ("0", False),
], ids=["true", "false", "one", "zero", "str-true", "str-False", "str-1", "str-0"])
def test_is_available_sets_is_service_available_with_boolean_coercion(
        topchef_2017, value, expected):
    service_id = topchef_2017.register_service()
    if not expected:
        json_body(modify(topchef_2017, service_id, {"is_available": True}), 200)
    body = json_body(modify(topchef_2017, service_id, {"is_available": value}), 200)
    assert body["data"]["is_service_available"] is expected
    assert topchef_2017.service(service_id)["is_service_available"] is expected


def test_name_and_description_can_be_changed_in_2017(topchef_2017):
    service_id = topchef_2017.register_service(name="Adder", description="Adds one")
    body = json_body(modify(topchef_2017, service_id,
                            {"name": "Summer", "description": "Adds two"}), 200)
    assert body["data"]["name"] == "Summer"
    detail = topchef_2017.service(service_id)
    assert (detail["name"], detail["description"]) == ("Summer", "Adds two")
    items = json_body(topchef_2017.get("/services"), 200)["data"]
    assert items == [{"description": "Adds two", "id": service_id, "name": "Summer"}]


@pytest.mark.parametrize("value, expected", [
    (45, 45), (12.7, 12), ("20", 20), (True, 1),
], ids=["integer", "float-truncated", "numeric-string", "true"])
def test_the_timeout_is_coerced_to_integer_seconds(topchef_2017, value, expected):
    service_id = topchef_2017.register_service()
    body = json_body(modify(topchef_2017, service_id, {"timeout": value}), 200)
    assert body["data"]["timeout"] == expected
    assert topchef_2017.service(service_id)["timeout"] == expected


def test_the_schemas_cannot_be_changed_by_patch(topchef_2017):
    service_id = topchef_2017.register_service()
    before = topchef_2017.service(service_id)
    json_body(modify(topchef_2017, service_id, {"job_registration_schema": {"type": "array"},
                                                "job_result_schema": {"type": "array"}}), 200)
    after = topchef_2017.service(service_id)
    assert after["job_registration_schema"] == before["job_registration_schema"]
    assert after["job_result_schema"] == before["job_result_schema"]


@pytest.mark.parametrize("field, value, message", [
    ("is_available", "maybe", NOT_A_BOOLEAN),
    ("is_available", None, NOT_NULL),
    ("name", 5, NOT_A_STRING),
    ("description", {"a": 1}, NOT_A_STRING),
    ("timeout", "abc", NOT_A_PERIOD),
    ("timeout", [], NOT_A_PERIOD),
], ids=["available-maybe", "available-null", "name-number", "description-object",
        "timeout-word", "timeout-array"])
def test_a_bad_modification_field_is_a_400_but_still_checks_in(
        clocked_topchef_2017, field, value, message):
    topchef = clocked_topchef_2017
    service_id = topchef.register_service()
    advance_past_registration(topchef, service_id)
    response = modify(topchef, service_id, {field: value})
    details = errors_2017(response, 400, DESERIALIZATION_ERROR)
    assert details == [deserialization_detail(field, message)]
    assert_checked_in_recently(topchef, service_id)


def test_a_negative_timeout_is_a_400(clocked_topchef_2017):
    topchef = clocked_topchef_2017
    service_id = topchef.register_service()
    advance_past_registration(topchef, service_id)
    response = modify(topchef, service_id, {"timeout": -1})
    details = errors_2017(response, 400, DESERIALIZATION_ERROR)
    assert len(details) == 1
    assert "Attempted to set a negative timeout duration" in details[0]
    assert topchef.service(service_id)["timeout"] == 30
    assert_checked_in_recently(topchef, service_id)


def test_two_bad_fields_give_two_errors(topchef_2017):
    service_id = topchef_2017.register_service()
    response = modify(topchef_2017, service_id, {"name": 5, "timeout": "abc"})
    details = errors_2017(response, 400, DESERIALIZATION_ERROR)
    assert sorted(details) == sorted([deserialization_detail("name", NOT_A_STRING),
                                      deserialization_detail("timeout", NOT_A_PERIOD)])


@pytest.mark.parametrize("value", [[1], 5, "x", False],
                         ids=["array", "number", "string", "false"])
def test_a_non_object_json_body_is_an_invalid_input_type_but_still_checks_in(
        clocked_topchef_2017, value):
    topchef = clocked_topchef_2017
    service_id = topchef.register_service()
    advance_past_registration(topchef, service_id)
    response = modify(topchef, service_id, value)
    details = errors_2017(response, 400, DESERIALIZATION_ERROR)
    assert details == [deserialization_detail("_schema", INVALID_INPUT_TYPE)]
    assert_checked_in_recently(topchef, service_id)


def test_a_zero_timeout_is_a_500_page_yet_commits_the_check_in_and_other_fields(
        clocked_topchef_2017):
    topchef = clocked_topchef_2017
    service_id = topchef.register_service(name="Adder", description="Adds one")
    advance_past_registration(topchef, service_id)
    response = modify(topchef, service_id, {"timeout": 0, "is_available": True,
                                            "name": "Renamed", "description": "Changed"})
    html_body(response, 500)
    detail = topchef.service(service_id)
    assert detail["is_service_available"] is True
    assert detail["name"] == "Renamed"
    assert detail["description"] == "Changed"
    assert detail["timeout"] == 30
    assert_checked_in_recently(topchef, service_id)


def test_a_2017_modification_for_an_unknown_service_is_a_service_not_found(topchef_2017):
    response = modify(topchef_2017, UNKNOWN_UUID, {"is_available": True})
    assert_single_error_2017(response, 404, SERVICE_NOT_FOUND,
                             "A service with UUID %s does not exist" % UNKNOWN_UUID)
