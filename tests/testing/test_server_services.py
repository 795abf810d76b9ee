# -*- coding: utf-8 -*-
"""GET and POST /services.

See docs/server-api.rst §2.4, §2.5, §3.2, §3.3, §3.4; quirks trimmed-schemas,
python-reprs-in-messages and id-only-in-location.
"""
import uuid

import pytest
import six

from topchef_conformance import (
    DEFAULT_REGISTRATION_SCHEMA, DEFAULT_RESULT_SCHEMA, DESERIALIZATION_ERROR, INVALID_INPUT_TYPE,
    MISSING, NOT_A_MAPPING, NOT_A_STRING, NOT_NULL, assert_uuid, deserialization_detail,
    errors_2017, json_body, uuid_version)

POST_SCHEMA_2016 = {
    "type": "object",
    "required": ["description", "job_registration_schema", "name"],
    "properties": {
        "description": {"title": "description", "type": "string"},
        "has_timed_out": {"title": "has_timed_out", "type": "boolean", "default": False},
        "id": {"title": "id", "type": "string"},
        "job_registration_schema": {"title": "job_registration_schema", "type": "object"},
        "job_result_schema": {"title": "job_result_schema", "type": "object"},
        "name": {"title": "name", "type": "string"},
    },
}

RICH_SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "title": "Adder parameters",
    "type": "object",
    "properties": {"value": {"type": "integer", "title": "the value", "maximum": 10}},
    "required": ["value"],
    "additionalProperties": False,
    "minProperties": 1,
    "anyOf": [{"required": ["value"]}],
}
RICH_SCHEMA_TRIMMED = {
    "type": "object",
    "properties": {"value": {"type": "integer", "title": "the value", "maximum": 10}},
    "required": ["value"],
}

REQUIRED_2016 = ["name", "description", "job_registration_schema"]
REQUIRED_2017 = ["name", "description", "job_registration_schema", "job_result_schema"]


def register(topchef, **overrides):
    body = topchef.registration_body()
    body.update(overrides)
    return topchef.send_json("POST", "/services", body)


def without(body, key):
    body = dict(body)
    del body[key]
    return body


# --- listing -----------------------------------------------------------------------

def test_an_empty_registry_lists_no_services(topchef):
    body = json_body(topchef.get("/services"), 200)
    assert body["data"] == []
    if topchef.generation == "2016":
        assert set(body) == {"data", "meta"}
    else:
        assert set(body) == {"data", "meta", "links"}
        assert body["links"] == {"self": topchef.url("/services")}


def test_the_2016_list_meta_inlines_the_post_schema(topchef_2016):
    body = json_body(topchef_2016.get("/services"), 200)
    assert body["meta"] == {"POST_schema": POST_SCHEMA_2016}


def test_the_2017_list_meta_has_the_service_schema_and_the_four_required_post_fields(topchef_2017):
    meta = json_body(topchef_2017.get("/services"), 200)["meta"]
    assert set(meta) == {"service_schema", "new_service_schema"}
    assert set(meta["new_service_schema"]["required"]) == set(REQUIRED_2017)


def test_list_items_have_the_generations_summary_fields(topchef):
    service_id = topchef.register_service(name="Adder", description="Adds one")
    items = json_body(topchef.get("/services"), 200)["data"]
    if topchef.generation == "2016":
        assert items == [{"has_timed_out": False, "id": service_id, "name": "Adder",
                          "url": topchef.url("/services/" + service_id)}]
    else:
        assert items == [{"description": "Adds one", "id": service_id, "name": "Adder"}]


def test_services_are_listed_in_registration_order(topchef):
    ids = [topchef.register_service(name="s%d" % index) for index in range(5)]
    items = json_body(topchef.get("/services"), 200)["data"]
    assert [item["id"] for item in items] == ids
    assert [item["name"] for item in items] == ["s%d" % index for index in range(5)]


def test_registering_the_same_name_twice_creates_two_services(topchef):
    first = topchef.register_service(name="Twin")
    second = topchef.register_service(name="Twin")
    assert first != second
    items = json_body(topchef.get("/services"), 200)["data"]
    assert [item["id"] for item in items] == [first, second]


# --- registration: success ------------------------------------------------------------

def test_registration_mints_a_uuid_of_the_generations_version(topchef):
    assert_uuid(topchef.register_service(), uuid_version(topchef.generation))


def test_a_2016_registration_answers_201_with_location_message_and_details(topchef_2016):
    response = register(topchef_2016, job_registration_schema=RICH_SCHEMA)
    body = json_body(response, 201)
    details = body["data"]["service_details"]
    service_id = details["id"]
    assert response.headers["Location"] == topchef_2016.url("/services/" + service_id)
    assert set(body["data"]) == {"message", "service_details"}
    assert details == {
        "description": "Adds one",
        "has_timed_out": False,
        "id": service_id,
        "job_registration_schema": RICH_SCHEMA_TRIMMED,
        "job_result_schema": {"type": "object"},
        "name": "Adder",
        "url": topchef_2016.url("/services/" + service_id),
    }
    message = body["data"]["message"]
    assert isinstance(message, six.string_types)
    assert message.startswith("Service Service(id=%d, name=Adder" % uuid.UUID(service_id).int)
    assert message.endswith("successfully registered")


def test_a_2017_registration_answers_201_with_location_and_no_id_in_the_body(topchef_2017):
    response = register(topchef_2017)
    body = json_body(response, 201)
    assert body == {"data": {"message": "service successfully created"},
                    "links": {"self": topchef_2017.url("/services")}}
    location = response.headers["Location"]
    service_id = location.rsplit("/", 1)[-1]
    assert location == topchef_2017.url("/services/" + service_id)
    assert_uuid(service_id, 4)
    assert topchef_2017.service(service_id)["name"] == "Adder"


def test_the_2016_registration_schema_keeps_only_type_properties_and_required(topchef_2016):
    service_id = topchef_2016.register_service(registration_schema=RICH_SCHEMA)
    assert topchef_2016.service(service_id)["job_registration_schema"] == RICH_SCHEMA_TRIMMED


def test_a_2016_array_registration_schema_comes_back_as_a_bare_object_type(topchef_2016):
    service_id = topchef_2016.register_service(
        registration_schema={"type": "array", "items": {"type": "integer"}})
    assert topchef_2016.service(service_id)["job_registration_schema"] == {"type": "object"}


def test_a_2016_result_schema_always_comes_back_as_a_bare_object_type(topchef_2016):
    service_id = topchef_2016.register_service(result_schema=RICH_SCHEMA)
    assert topchef_2016.service(service_id)["job_result_schema"] == {"type": "object"}


def test_the_2016_result_schema_is_optional(topchef_2016):
    body = without(topchef_2016.registration_body(), "job_result_schema")
    response = topchef_2016.send_json("POST", "/services", body)
    details = json_body(response, 201)["data"]["service_details"]
    assert details["job_result_schema"] == {"type": "object"}


def test_2017_stores_both_schemas_verbatim(topchef_2017):
    result_schema = dict(RICH_SCHEMA, title="Adder result")
    service_id = topchef_2017.register_service(
        registration_schema=RICH_SCHEMA, result_schema=result_schema)
    detail = topchef_2017.service(service_id)
    assert detail["job_registration_schema"] == RICH_SCHEMA
    assert detail["job_result_schema"] == result_schema


def test_registration_does_not_check_that_the_schema_is_valid(topchef):
    invalid = {"type": "object", "properties": {"value": {"type": 5}}}
    response = register(topchef, job_registration_schema=invalid, job_result_schema=invalid)
    json_body(response, 201)


def test_registration_ignores_unknown_keys_including_a_timeout(topchef):
    response = register(topchef, timeout=5, heartbeat_timeout=5, colour="blue")
    json_body(response, 201)
    service_id = response.headers["Location"].rsplit("/", 1)[-1]
    detail = topchef.service(service_id)
    if topchef.generation == "2017":
        assert detail["timeout"] == 30
        assert detail["is_service_available"] is False
    assert "colour" not in detail


def test_the_2016_id_and_has_timed_out_fields_are_accepted_and_ignored(topchef_2016):
    response = register(topchef_2016, id="my-own-id", has_timed_out=True)
    details = json_body(response, 201)["data"]["service_details"]
    assert details["id"] != "my-own-id"
    assert_uuid(details["id"], 1)
    assert details["has_timed_out"] is False


def test_the_2017_id_field_is_ignored(topchef_2017):
    response = register(topchef_2017, id="12345678-1234-4234-9234-123456789abc")
    json_body(response, 201)
    assert not response.headers["Location"].endswith("12345678-1234-4234-9234-123456789abc")


def test_a_2017_service_starts_unavailable_with_a_30_second_timeout(topchef_2017):
    detail = topchef_2017.service(topchef_2017.register_service())
    assert detail["timeout"] == 30
    assert detail["is_service_available"] is False
    assert detail["has_timed_out"] is False


# --- registration: bad input, 2016 ----------------------------------------------------

@pytest.mark.parametrize("field", REQUIRED_2016)
def test_a_missing_required_field_is_a_serializer_error_in_2016(topchef_2016, field):
    body = without(topchef_2016.registration_body(), field)
    response = topchef_2016.send_json("POST", "/services", body)
    assert json_body(response, 400) == {"errors": {
        "message": "Invalid request, serializer produced errors.",
        "serializer_errors": {field: [MISSING]},
    }}


@pytest.mark.parametrize("field, value", [
    ("name", 5),
    ("description", ["x"]),
    ("job_registration_schema", "x"),
    ("job_registration_schema", [1]),
    ("job_result_schema", 5),
    ("id", 5),
    ("has_timed_out", "maybe"),
], ids=["name-number", "description-array", "schema-string", "schema-array",
        "result-schema-number", "id-number", "has-timed-out-not-boolean"])
def test_a_field_of_the_wrong_type_is_a_serializer_error_in_2016(topchef_2016, field, value):
    response = register(topchef_2016, **{field: value})
    errors = json_body(response, 400)["errors"]
    assert errors["message"] == "Invalid request, serializer produced errors."
    assert list(errors["serializer_errors"]) == [field]


def test_a_rejected_2016_registration_creates_nothing(topchef_2016):
    register(topchef_2016, name=5)
    assert json_body(topchef_2016.get("/services"), 200)["data"] == []


# --- registration: bad input, 2017 ----------------------------------------------------

@pytest.mark.parametrize("field", REQUIRED_2017)
def test_a_missing_required_field_is_a_deserialization_error_in_2017(topchef_2017, field):
    body = without(topchef_2017.registration_body(), field)
    response = topchef_2017.send_json("POST", "/services", body)
    details = errors_2017(response, 400, DESERIALIZATION_ERROR)
    assert details == [deserialization_detail(field, MISSING)]


def test_an_empty_object_gives_one_error_per_required_field_in_2017(topchef_2017):
    response = topchef_2017.send_json("POST", "/services", {})
    details = errors_2017(response, 400, DESERIALIZATION_ERROR)
    assert sorted(details) == sorted(
        deserialization_detail(field, MISSING) for field in REQUIRED_2017)


@pytest.mark.parametrize("field, value, message", [
    ("name", 5, NOT_A_STRING),
    ("description", True, NOT_A_STRING),
    ("job_registration_schema", "x", NOT_A_MAPPING),
    ("job_registration_schema", [1], NOT_A_MAPPING),
    ("job_result_schema", 5, NOT_A_MAPPING),
    ("name", None, NOT_NULL),
    ("job_result_schema", None, NOT_NULL),
], ids=["name-number", "description-boolean", "schema-string", "schema-array",
        "result-schema-number", "name-null", "result-schema-null"])
def test_a_field_of_the_wrong_type_is_a_deserialization_error_in_2017(
        topchef_2017, field, value, message):
    response = register(topchef_2017, **{field: value})
    details = errors_2017(response, 400, DESERIALIZATION_ERROR)
    assert details == [deserialization_detail(field, message)]


@pytest.mark.parametrize("value", [[1], "x", 5, True], ids=["array", "string", "number", "true"])
def test_a_body_that_is_not_an_object_is_an_invalid_input_type_in_2017(topchef_2017, value):
    response = topchef_2017.send_json("POST", "/services", value)
    details = errors_2017(response, 400, DESERIALIZATION_ERROR)
    assert details == [deserialization_detail("_schema", INVALID_INPUT_TYPE)]


def test_a_rejected_2017_registration_creates_nothing(topchef_2017):
    register(topchef_2017, job_result_schema=None)
    assert json_body(topchef_2017.get("/services"), 200)["data"] == []


def test_the_default_schemas_round_trip_in_2017(topchef_2017):
    detail = topchef_2017.service(topchef_2017.register_service())
    assert detail["job_registration_schema"] == DEFAULT_REGISTRATION_SCHEMA
    assert detail["job_result_schema"] == DEFAULT_RESULT_SCHEMA


def test_absolute_urls_are_built_from_the_host_header(topchef):
    service_id = topchef.register_service()
    response = topchef.get("/services", headers={"Host": "topchef.example:8080"})
    body = json_body(response, 200)
    if topchef.generation == "2016":
        assert body["data"][0]["url"] == "http://topchef.example:8080/services/" + service_id
    else:
        assert body["links"] == {"self": "http://topchef.example:8080/services"}
