# -*- coding: utf-8 -*-
"""GET and POST /services/<id>/jobs.

See docs/server-api.rst §2.4, §2.5, §3.3, §3.4; quirks non-uuid-service-jobs-500,
invalid-parameters-500, lists-without-parameters and frozen-date-submitted.
"""
import pytest
import six

from topchef_conformance import (
    DEFAULT_REGISTRATION_SCHEMA, DESERIALIZATION_ERROR, INVALID_INPUT_TYPE, MISSING,
    NOT_A_MAPPING, NOT_A_UUID, NOT_NULL, SCHEMA_VALIDATION_ERROR, SERVICE_NOT_FOUND, START,
    UNKNOWN_UUID, assert_not_a_uuid_2017, assert_single_error_2017, assert_timestamp,
    assert_uuid, deserialization_detail, errors_2017, html_body, json_body, schema_detail,
    uuid_version)

STRICT_SCHEMA = {
    "$schema": "http://json-schema.org/draft-04/schema#",
    "type": "object",
    "properties": {"value": {"type": "integer", "maximum": 10},
                   "label": {"type": "string"}},
    "required": ["value"],
    "additionalProperties": False,
}


def submit(topchef, service_id, body):
    return topchef.send_json("POST", "/services/%s/jobs" % service_id, body)


def jobs_of(topchef, service_id):
    return json_body(topchef.get("/services/%s/jobs" % service_id), 200)


# --- listing ------------------------------------------------------------------------

def test_a_service_without_jobs_lists_none(topchef, service_id):
    body = jobs_of(topchef, service_id)
    assert body["data"] == []
    if topchef.generation == "2016":
        assert set(body) == {"data"}
    else:
        assert set(body) == {"data", "links", "meta"}


def test_the_2016_list_omits_parameters_and_result(topchef_2016):
    service_id = topchef_2016.register_service()
    job_id = topchef_2016.submit_job(service_id, {"value": 3})
    items = jobs_of(topchef_2016, service_id)["data"]
    assert len(items) == 1
    assert set(items[0]) == {"date_submitted", "id", "status"}
    assert items[0]["id"] == job_id
    assert items[0]["status"] == "REGISTERED"
    assert_timestamp(items[0]["date_submitted"])


def test_the_2017_list_has_full_job_details_with_links_and_meta(topchef_2017):
    service_id = topchef_2017.register_service()
    job_id = topchef_2017.submit_job(service_id, {"value": 3})
    body = jobs_of(topchef_2017, service_id)
    assert body["links"] == {"self": topchef_2017.url("/services/%s/jobs" % service_id)}
    [item] = body["data"]
    assert set(item) == {"date_submitted", "id", "parameters", "results", "status"}
    assert (item["id"], item["parameters"], item["results"], item["status"]) == (
        job_id, {"value": 3}, None, "REGISTERED")


def test_the_2017_list_meta_has_a_new_job_schema_without_required(topchef_2017):
    service_id = topchef_2017.register_service(registration_schema=STRICT_SCHEMA)
    meta = jobs_of(topchef_2017, service_id)["meta"]
    assert "data_schema" in meta
    new_job = meta["new_job_schema"]
    assert new_job["title"] == "New Job Schema"
    assert new_job["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert new_job["type"] == "object"
    assert new_job["properties"] == {"parameters": STRICT_SCHEMA}
    assert "required" not in new_job
    assert isinstance(new_job["description"], six.string_types)


def test_the_list_has_every_status_in_submission_order_and_only_this_service(topchef):
    service_id = topchef.register_service()
    other = topchef.register_service()
    ids = [topchef.submit_job(service_id, {"value": index}) for index in range(4)]
    topchef.submit_job(other)
    topchef.update_job(ids[1], status="WORKING")
    topchef.update_job(ids[2], status="COMPLETED", result={"sum": 3})
    items = jobs_of(topchef, service_id)["data"]
    assert [item["id"] for item in items] == ids
    assert [item["status"] for item in items] == [
        "REGISTERED", "WORKING", "COMPLETED", "REGISTERED"]


def test_listing_jobs_of_an_unknown_service_is_a_404(topchef):
    response = topchef.get("/services/%s/jobs" % UNKNOWN_UUID)
    if topchef.generation == "2016":
        assert json_body(response, 404) == {
            "errors": "A service with id %s was not found" % UNKNOWN_UUID}
    else:
        assert_single_error_2017(response, 404, SERVICE_NOT_FOUND,
                                 "A service with UUID %s does not exist" % UNKNOWN_UUID)


def test_the_2016_unknown_service_message_repeats_the_id_as_typed(topchef_2016):
    typed = UNKNOWN_UUID.upper()
    response = topchef_2016.get("/services/%s/jobs" % typed)
    assert json_body(response, 404) == {"errors": "A service with id %s was not found" % typed}


def test_listing_jobs_of_a_non_uuid_is_a_500_page_in_2016_and_a_not_uuid_error_in_2017(topchef):
    response = topchef.get("/services/%s/jobs" % NOT_A_UUID)
    if topchef.generation == "2016":
        html_body(response, 500)
    else:
        assert_not_a_uuid_2017(response)


# --- submission: success ------------------------------------------------------------------

def test_a_2016_submission_answers_201_with_location_job_details_and_message(topchef_2016):
    service_id = topchef_2016.register_service()
    response = submit(topchef_2016, service_id, {"parameters": {"value": 3}})
    body = json_body(response, 201)
    assert set(body) == {"data"}
    assert set(body["data"]) == {"job_details", "message"}
    details = body["data"]["job_details"]
    assert set(details) == {"date_submitted", "id", "parameters", "status"}
    assert details["parameters"] == {"value": 3}
    assert details["status"] == "REGISTERED"
    assert_uuid(details["id"], 1)
    assert_timestamp(details["date_submitted"])
    assert response.headers["Location"] == topchef_2016.url("/jobs/" + details["id"])
    assert body["data"]["message"].startswith("Job Job(")
    assert body["data"]["message"].endswith("successfully created")


def test_a_2017_submission_answers_201_with_the_job_and_a_meta_string(topchef_2017):
    service_id = topchef_2017.register_service()
    response = submit(topchef_2017, service_id, {"parameters": {"value": 3}})
    body = json_body(response, 201)
    assert set(body) == {"data", "meta"}
    job = body["data"]
    assert set(job) == {"date_submitted", "id", "parameters", "results", "status"}
    assert (job["parameters"], job["results"], job["status"]) == ({"value": 3}, None, "REGISTERED")
    assert_uuid(job["id"], 4)
    assert_timestamp(job["date_submitted"])
    assert body["meta"] == "new job ID is %s" % job["id"]
    assert response.headers["Location"] == topchef_2017.url("/jobs/" + job["id"])


def test_a_new_job_has_an_empty_result_in_2016_and_null_results_in_2017(topchef):
    job = topchef.job(topchef.submit_job(topchef.register_service()))
    if topchef.generation == "2016":
        assert job["result"] == {}
    else:
        assert job["results"] is None


def test_submitted_job_ids_are_distinct_uuids_of_the_generations_version(topchef):
    service_id = topchef.register_service()
    ids = [topchef.submit_job(service_id) for _ in range(5)]
    assert len(set(ids)) == 5
    for job_id in ids:
        assert_uuid(job_id, uuid_version(topchef.generation))


def test_a_2016_submission_time_comes_from_the_clock(clocked_topchef_2016):
    topchef = clocked_topchef_2016
    service_id = topchef.register_service()
    first = topchef.job(topchef.submit_job(service_id))
    topchef.clock.advance(0.25)
    second = topchef.job(topchef.submit_job(service_id))
    assert first["date_submitted"] == "2017-07-14T02:40:00+00:00"
    assert second["date_submitted"] == "2017-07-14T02:40:00.250000+00:00"
    assert assert_timestamp(second["date_submitted"]) == START + 0.25


def test_all_2017_jobs_of_one_server_share_one_frozen_submission_time(clocked_topchef_2017):
    topchef = clocked_topchef_2017
    service_id = topchef.register_service()
    first = topchef.submit_job(service_id)
    topchef.clock.advance(3600)
    second = topchef.submit_job(topchef.register_service())
    stamps = [topchef.job(job_id)["date_submitted"] for job_id in (first, second)]
    assert stamps[0] == stamps[1]
    assert_timestamp(stamps[0])


def test_jobs_may_be_submitted_to_a_timed_out_service(clocked_topchef):
    service_id = clocked_topchef.register_service()
    clocked_topchef.clock.advance(1000)
    assert clocked_topchef.timed_out(service_id) is True
    clocked_topchef.submit_job(service_id)


def test_a_2016_submission_ignores_a_valid_status_and_starts_registered(topchef_2016):
    service_id = topchef_2016.register_service()
    response = submit(topchef_2016, service_id,
                      {"parameters": {"value": 1}, "status": "COMPLETED"})
    assert json_body(response, 201)["data"]["job_details"]["status"] == "REGISTERED"


def test_a_2017_submission_ignores_status_and_results(topchef_2017):
    service_id = topchef_2017.register_service()
    response = submit(topchef_2017, service_id, {"parameters": {"value": 1},
                                                 "status": "COMPLETED",
                                                 "results": {"sum": 2}})
    job = json_body(response, 201)["data"]
    assert (job["status"], job["results"]) == ("REGISTERED", None)


def test_2016_enforces_only_the_trimmed_schema_so_extra_keys_pass(topchef_2016):
    service_id = topchef_2016.register_service(registration_schema=STRICT_SCHEMA)
    response = submit(topchef_2016, service_id, {"parameters": {"value": 3, "extra": True}})
    json_body(response, 201)


def test_2016_accepts_object_parameters_for_a_registered_array_schema(topchef_2016):
    service_id = topchef_2016.register_service(registration_schema={"type": "array"})
    json_body(submit(topchef_2016, service_id, {"parameters": {"a": 1}}), 201)


# --- submission: bad input, 2016 ---------------------------------------------------------

@pytest.mark.parametrize("parameters", [
    {"value": 30},
    {"value": "three"},
    {},
    {"label": "no value"},
], ids=["nested-maximum", "wrong-type", "empty", "required-missing"])
def test_invalid_parameters_are_a_500_page_in_2016(topchef_2016, parameters):
    service_id = topchef_2016.register_service(registration_schema=STRICT_SCHEMA)
    html_body(submit(topchef_2016, service_id, {"parameters": parameters}), 500)
    assert jobs_of(topchef_2016, service_id)["data"] == []


def test_missing_parameters_are_a_400_with_a_repr_in_a_string_in_2016(topchef_2016):
    service_id = topchef_2016.register_service()
    response = submit(topchef_2016, service_id, {"value": 1})
    assert json_body(response, 400) == {
        "errors": "Schema loading produced errors "
                  "{'parameters': ['Missing data for required field.']}"}


@pytest.mark.parametrize("extra", [
    {"status": "DONE"},
    {"status": "registered"},
    {"status": "ERROR"},
    {"id": 5},
    {"date_submitted": "yesterday"},
], ids=["status-unknown", "status-lower-case", "status-error", "id-number", "date-garbage"])
def test_a_malformed_optional_field_is_a_400_in_2016(topchef_2016, extra):
    service_id = topchef_2016.register_service()
    body = {"parameters": {"value": 1}}
    body.update(extra)
    response = submit(topchef_2016, service_id, body)
    assert "errors" in json_body(response, 400)
    assert jobs_of(topchef_2016, service_id)["data"] == []


def test_submitting_to_an_unknown_service_is_a_404_in_2016(topchef_2016):
    response = submit(topchef_2016, UNKNOWN_UUID, {"parameters": {"value": 1}})
    assert json_body(response, 404) == {
        "errors": "A service with id %s was not found" % UNKNOWN_UUID}


def test_submitting_to_a_non_uuid_is_a_500_page_in_2016(topchef_2016):
    html_body(submit(topchef_2016, NOT_A_UUID, {"parameters": {"value": 1}}), 500)


# --- submission: bad input, 2017 ---------------------------------------------------------

def test_2017_reports_a_schema_violation_verbatim(topchef_2017):
    service_id = topchef_2017.register_service()
    response = submit(topchef_2017, service_id, {"parameters": {"value": 30}})
    assert json_body(response, 400) == {"errors": [{
        "status_code": 400,
        "title": SCHEMA_VALIDATION_ERROR,
        "detail": schema_detail("30 is greater than the maximum of 10"),
    }]}


def test_2017_reports_every_schema_violation_and_enforces_the_full_schema(topchef_2017):
    service_id = topchef_2017.register_service(registration_schema=STRICT_SCHEMA)
    response = submit(topchef_2017, service_id,
                      {"parameters": {"value": 30, "label": 5, "extra": 1}})
    details = errors_2017(response, 400, SCHEMA_VALIDATION_ERROR)
    assert len(details) == 3
    assert schema_detail("30 is greater than the maximum of 10") in details
    assert schema_detail("5 is not of type 'string'") in details
    assert any("Additional properties are not allowed" in detail for detail in details)
    assert jobs_of(topchef_2017, service_id)["data"] == []


def test_2017_reports_a_missing_required_parameter(topchef_2017):
    service_id = topchef_2017.register_service()
    response = submit(topchef_2017, service_id, {"parameters": {}})
    details = errors_2017(response, 400, SCHEMA_VALIDATION_ERROR)
    assert details == [schema_detail("'value' is a required property")]


@pytest.mark.parametrize("body, message", [
    ({"value": 1}, MISSING),
    ({"parameters": [1]}, NOT_A_MAPPING),
    ({"parameters": "x"}, NOT_A_MAPPING),
    ({"parameters": None}, NOT_NULL),
], ids=["missing", "array", "string", "null"])
def test_bad_parameters_are_a_deserialization_error_in_2017(topchef_2017, body, message):
    service_id = topchef_2017.register_service()
    details = errors_2017(submit(topchef_2017, service_id, body), 400, DESERIALIZATION_ERROR)
    assert details == [deserialization_detail("parameters", message)]


@pytest.mark.parametrize("value", [[1], "x", 5], ids=["array", "string", "number"])
def test_a_non_object_submission_is_an_invalid_input_type_in_2017(topchef_2017, value):
    service_id = topchef_2017.register_service()
    details = errors_2017(submit(topchef_2017, service_id, value), 400, DESERIALIZATION_ERROR)
    assert details == [deserialization_detail("_schema", INVALID_INPUT_TYPE)]


def test_an_invalid_stored_schema_makes_submission_a_500_page_in_2017(topchef_2017):
    service_id = topchef_2017.register_service(registration_schema={"type": 5})
    html_body(submit(topchef_2017, service_id, {"parameters": {"value": 1}}), 500)


def test_submitting_to_an_unknown_service_is_a_service_not_found_in_2017(topchef_2017):
    response = submit(topchef_2017, UNKNOWN_UUID, {"parameters": {"value": 1}})
    assert_single_error_2017(response, 404, SERVICE_NOT_FOUND,
                             "A service with UUID %s does not exist" % UNKNOWN_UUID)


def test_submitting_to_a_non_uuid_is_a_not_uuid_error_in_2017(topchef_2017):
    response = submit(topchef_2017, NOT_A_UUID, {"parameters": {"value": 1}})
    assert_not_a_uuid_2017(response)


def test_the_default_schema_accepts_the_default_parameters(topchef):
    assert DEFAULT_REGISTRATION_SCHEMA["required"] == ["value"]
    service_id = topchef.register_service()
    json_body(submit(topchef, service_id, {"parameters": {"value": 10}}), 201)
