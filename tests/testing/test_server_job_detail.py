# -*- coding: utf-8 -*-
"""GET /jobs/<id> and the worker's update call: 2016 PUT /jobs/<id>, 2017 PATCH /jobs/<id>.

See docs/server-api.rst §2.4, §2.5, §3.3, §3.4, §8; quirks put-needs-all-fields,
status-newline-500, non-string-status-500, result-singular-ignored and bare-job-patch-reply.
"""
import pytest

from topchef_conformance import (
    DESERIALIZATION_ERROR, JOB_NOT_FOUND, NOT_A_MAPPING, NOT_A_UUID, NOT_UUID_ERROR,
    SCHEMA_VALIDATION_ERROR, STATUSES_2016, STATUSES_2017, UNKNOWN_UUID, allowed_methods,
    assert_not_a_uuid_2017, assert_single_error_2017, assert_timestamp, deserialization_detail,
    errors_2017, html_body, json_body, schema_detail)

JOB_KEYS_2016 = {"date_submitted", "id", "parameters", "result", "status"}
JOB_KEYS_2017 = {"date_submitted", "id", "parameters", "results", "status"}


def new_job(topchef, parameters=None, **service_options):
    service_id = topchef.register_service(**service_options)
    return topchef.submit_job(service_id, parameters or {"value": 3})


# --- GET, both generations -------------------------------------------------------------

def test_the_2016_job_detail_has_parameters_and_an_empty_result(topchef_2016):
    job_id = new_job(topchef_2016)
    body = json_body(topchef_2016.get("/jobs/" + job_id), 200)
    assert set(body) == {"data"}
    job = body["data"]
    assert set(job) == JOB_KEYS_2016
    assert (job["id"], job["parameters"], job["result"], job["status"]) == (
        job_id, {"value": 3}, {}, "REGISTERED")
    assert_timestamp(job["date_submitted"])


def test_the_2017_job_detail_has_parameters_null_results_links_and_meta(topchef_2017):
    job_id = new_job(topchef_2017)
    body = json_body(topchef_2017.get("/jobs/" + job_id), 200)
    assert set(body) == {"data", "links", "meta"}
    assert body["links"] == {"self": topchef_2017.url("/jobs/" + job_id)}
    job = body["data"]
    assert set(job) == JOB_KEYS_2017
    assert (job["id"], job["parameters"], job["results"], job["status"]) == (
        job_id, {"value": 3}, None, "REGISTERED")
    assert_timestamp(job["date_submitted"])


def test_the_2017_job_meta_describes_the_patch_request(topchef_2017):
    meta = json_body(topchef_2017.get("/jobs/" + new_job(topchef_2017)), 200)["meta"]
    assert "job_info_schema" in meta
    patch_schema = meta["patch_request_schema"]
    assert set(patch_schema["properties"]["status"]["enum"]) == set(STATUSES_2017)
    assert patch_schema["properties"]["results"]["type"] == "object"
    assert patch_schema["required"] == []


def test_a_non_uuid_job_id_is_a_404(topchef):
    response = topchef.get("/jobs/" + NOT_A_UUID)
    if topchef.generation == "2016":
        assert json_body(response, 404) == {
            "errors": "Could not parse job_id=%s as a UUID" % NOT_A_UUID}
    else:
        assert_not_a_uuid_2017(response)


def test_an_unknown_job_is_a_404(topchef):
    response = topchef.get("/jobs/" + UNKNOWN_UUID)
    if topchef.generation == "2016":
        assert json_body(response, 404) == {
            "errors": "A job with id %s was not found" % UNKNOWN_UUID}
    else:
        assert_single_error_2017(response, 404, JOB_NOT_FOUND,
                                 "A job with id %s was not found" % UNKNOWN_UUID)


# --- 2016 PUT /jobs/<id> -----------------------------------------------------------------

def put(topchef, job_id, body):
    return topchef.send_json("PUT", "/jobs/" + job_id, body)


def full_put_body(**changes):
    body = {"status": "COMPLETED", "result": {"sum": 4}, "parameters": {"value": 3}}
    body.update(changes)
    return body


def test_a_2016_put_replaces_status_and_result_and_answers_the_job(topchef_2016):
    job_id = new_job(topchef_2016)
    before = topchef_2016.job(job_id)
    response = put(topchef_2016, job_id, full_put_body())
    body = json_body(response, 200)
    assert response.headers["Location"] == topchef_2016.url("/jobs/" + job_id)
    assert set(body) == {"data"}
    assert body["data"]["message"] == "Job %s updated successfully" % job_id
    expected = dict(before, status="COMPLETED", result={"sum": 4})
    assert body["data"]["job_schema"] == expected
    assert topchef_2016.job(job_id) == expected


@pytest.mark.parametrize("status", STATUSES_2016)
def test_a_2016_put_accepts_each_status(topchef_2016, status):
    job_id = new_job(topchef_2016)
    json_body(put(topchef_2016, job_id, full_put_body(status=status)), 200)
    assert topchef_2016.job(job_id)["status"] == status


def test_a_2016_put_replaces_parameters_without_checking_the_schema(topchef_2016):
    job_id = new_job(topchef_2016)
    json_body(put(topchef_2016, job_id, full_put_body(parameters={"value": "not a number"})), 200)
    assert topchef_2016.job(job_id)["parameters"] == {"value": "not a number"}


def test_a_2016_put_accepts_any_object_as_result(topchef_2016):
    job_id = new_job(topchef_2016)
    json_body(put(topchef_2016, job_id, full_put_body(result={"no": ["sum", "here"]})), 200)
    assert topchef_2016.job(job_id)["result"] == {"no": ["sum", "here"]}


def test_2016_status_transitions_are_unrestricted(topchef_2016):
    job_id = new_job(topchef_2016)
    for status in ["COMPLETED", "REGISTERED", "WORKING", "WORKING", "REGISTERED", "COMPLETED"]:
        json_body(put(topchef_2016, job_id, full_put_body(status=status)), 200)
        assert topchef_2016.job(job_id)["status"] == status


def test_a_2016_put_ignores_well_formed_id_and_date_submitted(topchef_2016):
    job_id = new_job(topchef_2016)
    before = topchef_2016.job(job_id)
    body = full_put_body(id=UNKNOWN_UUID, date_submitted="2001-01-01T00:00:00+00:00")
    json_body(put(topchef_2016, job_id, body), 200)
    after = topchef_2016.job(job_id)
    assert (after["id"], after["date_submitted"]) == (job_id, before["date_submitted"])


@pytest.mark.parametrize("status", ["DONE", "completed", "Working", "ERROR"])
def test_a_2016_put_with_an_unknown_status_is_a_400_and_changes_nothing(topchef_2016, status):
    job_id = new_job(topchef_2016)
    before = topchef_2016.job(job_id)
    response = put(topchef_2016, job_id, full_put_body(status=status))
    assert json_body(response, 400) == {"errors": {"status": [
        "The status %s is not REGISTERED, WORKING, or COMPLETED" % status]}}
    assert topchef_2016.job(job_id) == before


def test_a_2016_put_without_parameters_is_a_400(topchef_2016):
    job_id = new_job(topchef_2016)
    body = full_put_body()
    del body["parameters"]
    assert json_body(put(topchef_2016, job_id, body), 400) == {
        "errors": {"parameters": ["Missing data for required field."]}}


def test_a_2016_put_with_a_non_object_result_is_a_400(topchef_2016):
    job_id = new_job(topchef_2016)
    assert json_body(put(topchef_2016, job_id, full_put_body(result="x")), 400) == {
        "errors": {"result": [NOT_A_MAPPING]}}


def test_a_2016_put_with_a_null_result_is_a_400(topchef_2016):
    job_id = new_job(topchef_2016)
    errors = json_body(put(topchef_2016, job_id, full_put_body(result=None)), 400)["errors"]
    assert list(errors) == ["result"]


@pytest.mark.parametrize("changes", [{"id": 5}, {"date_submitted": "yesterday"}],
                         ids=["id-number", "date-garbage"])
def test_a_2016_put_with_a_malformed_ignored_field_is_a_400(topchef_2016, changes):
    job_id = new_job(topchef_2016)
    before = topchef_2016.job(job_id)
    assert "errors" in json_body(put(topchef_2016, job_id, full_put_body(**changes)), 400)
    assert topchef_2016.job(job_id) == before


@pytest.mark.parametrize("missing", ["status", "result"])
def test_a_2016_put_without_status_or_result_is_a_500_page(topchef_2016, missing):
    job_id = new_job(topchef_2016)
    body = full_put_body()
    del body[missing]
    html_body(put(topchef_2016, job_id, body), 500)


def test_a_2016_put_with_results_plural_is_a_500_page(topchef_2016):
    job_id = new_job(topchef_2016)
    body = full_put_body()
    body["results"] = body.pop("result")
    html_body(put(topchef_2016, job_id, body), 500)


def test_a_2016_status_that_passes_the_regex_but_not_the_database_is_a_500_page(topchef_2016):
    job_id = new_job(topchef_2016)
    html_body(put(topchef_2016, job_id, full_put_body(status="WORKING\n")), 500)


def test_a_2016_put_to_a_non_uuid_is_a_404(topchef_2016):
    assert json_body(put(topchef_2016, NOT_A_UUID, full_put_body()), 404) == {
        "errors": "Unable to cast job id %s to a UUID" % NOT_A_UUID}


def test_a_2016_put_to_an_unknown_job_is_a_404(topchef_2016):
    assert json_body(put(topchef_2016, UNKNOWN_UUID, full_put_body()), 404) == {
        "errors": "Unable to find job with id %s" % UNKNOWN_UUID}


def test_patch_job_is_a_405_page_in_2016(topchef_2016):
    job_id = new_job(topchef_2016)
    response = topchef_2016.send_json("PATCH", "/jobs/" + job_id, {"status": "WORKING"})
    html_body(response, 405)
    assert {"GET", "PUT"} <= allowed_methods(response)
    assert topchef_2016.job(job_id)["status"] == "REGISTERED"


# --- 2017 PATCH /jobs/<id> ----------------------------------------------------------------

def patch(topchef, job_id, body):
    return topchef.send_json("PATCH", "/jobs/" + job_id, body)


def test_a_2017_patch_answers_the_bare_job_and_changes_it(topchef_2017):
    job_id = new_job(topchef_2017)
    before = topchef_2017.job(job_id)
    body = json_body(patch(topchef_2017, job_id,
                           {"status": "COMPLETED", "results": {"sum": 4}}), 200)
    expected = dict(before, status="COMPLETED", results={"sum": 4})
    assert body == expected
    assert topchef_2017.job(job_id) == expected


@pytest.mark.parametrize("given, stored", [
    ("registered", "REGISTERED"), ("working", "WORKING"), ("Completed", "COMPLETED"),
    ("eRRoR", "ERROR"), ("ERROR", "ERROR"), ("WORKING", "WORKING"),
])
def test_a_2017_status_is_case_insensitive_on_input(topchef_2017, given, stored):
    job_id = new_job(topchef_2017)
    assert json_body(patch(topchef_2017, job_id, {"status": given}), 200)["status"] == stored
    assert topchef_2017.job(job_id)["status"] == stored


def test_2017_status_transitions_are_unrestricted_and_results_allowed_in_any_status(
        topchef_2017):
    job_id = new_job(topchef_2017)
    steps = [("ERROR", None), ("REGISTERED", {"sum": 1}), ("COMPLETED", None),
             ("WORKING", {"sum": 2}), ("WORKING", None), ("REGISTERED", None)]
    for status, results in steps:
        body = {"status": status}
        if results is not None:
            body["results"] = results
        json_body(patch(topchef_2017, job_id, body), 200)
        assert topchef_2017.job(job_id)["status"] == status
    assert topchef_2017.job(job_id)["results"] == {"sum": 2}


def test_2017_results_may_be_written_while_registered(topchef_2017):
    job_id = new_job(topchef_2017)
    job = json_body(patch(topchef_2017, job_id, {"results": {"sum": 9}}), 200)
    assert (job["status"], job["results"]) == ("REGISTERED", {"sum": 9})


def test_2017_new_results_replace_the_old_ones(topchef_2017):
    job_id = new_job(topchef_2017)
    json_body(patch(topchef_2017, job_id, {"results": {"sum": 1, "note": "first"}}), 200)
    json_body(patch(topchef_2017, job_id, {"results": {"sum": 2}}), 200)
    assert topchef_2017.job(job_id)["results"] == {"sum": 2}


@pytest.mark.parametrize("body", [
    {},
    {"status": None},
    {"results": None},
    {"status": None, "results": None},
    {"result": {"sum": 4}, "status": None},
    {"parameters": {"value": 9}},
    {"id": UNKNOWN_UUID, "date_submitted": "2001-01-01T00:00:00+00:00"},
], ids=["empty", "null-status", "null-results", "both-null", "result-singular",
        "parameters", "id-and-date"])
def test_a_2017_patch_without_effective_fields_is_a_200_that_changes_nothing(topchef_2017, body):
    job_id = new_job(topchef_2017)
    before = topchef_2017.job(job_id)
    assert json_body(patch(topchef_2017, job_id, body), 200) == before
    assert topchef_2017.job(job_id) == before


def test_a_2016_style_result_and_parameters_change_nothing_in_2017(topchef_2017):
    job_id = new_job(topchef_2017)
    before = topchef_2017.job(job_id)
    body = {"result": {"sum": 4}, "parameters": {"value": 9}}
    assert json_body(patch(topchef_2017, job_id, body), 200) == before
    assert topchef_2017.job(job_id) == before


def test_a_2016_style_body_applies_only_its_status_in_2017(topchef_2017):
    job_id = new_job(topchef_2017)
    before = topchef_2017.job(job_id)
    body = {"status": "COMPLETED", "result": {"sum": 4}, "parameters": {"value": 9}}
    assert json_body(patch(topchef_2017, job_id, body), 200) == dict(before, status="COMPLETED")


def test_results_violating_the_result_schema_are_a_400_and_change_nothing(topchef_2017):
    job_id = new_job(topchef_2017)
    before = topchef_2017.job(job_id)
    response = patch(topchef_2017, job_id, {"status": "COMPLETED", "results": {"sum": "four"}})
    details = errors_2017(response, 400, SCHEMA_VALIDATION_ERROR)
    assert details == [schema_detail("'four' is not of type 'integer'")]
    assert topchef_2017.job(job_id) == before


def test_results_are_checked_against_the_full_result_schema(topchef_2017):
    result_schema = {"type": "object", "properties": {"sum": {"type": "integer"}},
                     "required": ["sum"], "additionalProperties": False}
    job_id = new_job(topchef_2017, result_schema=result_schema)
    response = patch(topchef_2017, job_id, {"results": {"sum": 1, "extra": 2}})
    details = errors_2017(response, 400, SCHEMA_VALIDATION_ERROR)
    assert len(details) == 1 and "Additional properties are not allowed" in details[0]
    response = patch(topchef_2017, job_id, {"results": {}})
    assert errors_2017(response, 400, SCHEMA_VALIDATION_ERROR) == [
        schema_detail("'sum' is a required property")]
    assert topchef_2017.job(job_id)["results"] is None


@pytest.mark.parametrize("results", [[1], "x", 5], ids=["array", "string", "number"])
def test_non_object_results_are_a_deserialization_error_and_change_nothing(topchef_2017, results):
    job_id = new_job(topchef_2017)
    before = topchef_2017.job(job_id)
    response = patch(topchef_2017, job_id, {"status": "WORKING", "results": results})
    details = errors_2017(response, 400, DESERIALIZATION_ERROR)
    assert details == [deserialization_detail("results", NOT_A_MAPPING)]
    assert topchef_2017.job(job_id) == before


def test_an_array_result_schema_can_never_be_satisfied(topchef_2017):
    job_id = new_job(topchef_2017, result_schema={"type": "array"})
    errors_2017(patch(topchef_2017, job_id, {"results": {"a": 1}}), 400, SCHEMA_VALIDATION_ERROR)
    errors_2017(patch(topchef_2017, job_id, {"results": [1]}), 400, DESERIALIZATION_ERROR)


@pytest.mark.parametrize("status", ["DONE", "", "working "])
def test_an_unknown_status_string_is_a_400_and_changes_nothing(topchef_2017, status):
    job_id = new_job(topchef_2017)
    before = topchef_2017.job(job_id)
    response = patch(topchef_2017, job_id, {"status": status, "results": {"sum": 1}})
    details = errors_2017(response, 400, DESERIALIZATION_ERROR)
    assert len(details) == 1
    assert "Unknown value for job status enum" in details[0]
    assert topchef_2017.job(job_id) == before


@pytest.mark.parametrize("status", [5, True, {"a": 1}, ["WORKING"]],
                         ids=["number", "boolean", "object", "array"])
def test_a_non_string_status_is_a_500_page(topchef_2017, status):
    job_id = new_job(topchef_2017)
    html_body(patch(topchef_2017, job_id, {"status": status}), 500)


def test_a_2017_patch_of_a_non_uuid_is_a_not_uuid_error(topchef_2017):
    assert_single_error_2017(patch(topchef_2017, NOT_A_UUID, {"status": "WORKING"}), 404,
                             NOT_UUID_ERROR,
                             "The string %s could not be converted to a UUID" % NOT_A_UUID)


def test_a_2017_patch_of_an_unknown_job_is_a_job_not_found(topchef_2017):
    assert_single_error_2017(patch(topchef_2017, UNKNOWN_UUID, {"status": "WORKING"}), 404,
                             JOB_NOT_FOUND, "A job with id %s was not found" % UNKNOWN_UUID)


def test_put_job_is_a_405_page_in_2017(topchef_2017):
    job_id = new_job(topchef_2017)
    response = put(topchef_2017, job_id, full_put_body())
    html_body(response, 405)
    assert {"GET", "PATCH"} <= allowed_methods(response)
    assert topchef_2017.job(job_id)["status"] == "REGISTERED"


# --- both generations: updates are unconditional (docs/server-api.rst §7) ---------------

def test_updates_ignore_preconditions_and_no_etag_is_ever_sent(topchef):
    job_id = new_job(topchef)
    response = topchef.get("/jobs/" + job_id)
    assert "ETag" not in response.headers
    headers = {"If-Match": '"no-such-version"',
               "If-Unmodified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"}
    if topchef.generation == "2016":
        response = topchef.send_json("PUT", "/jobs/" + job_id, full_put_body(status="WORKING"),
                                     headers=headers)
    else:
        response = topchef.send_json("PATCH", "/jobs/" + job_id, {"status": "WORKING"},
                                     headers=headers)
    json_body(response, 200)
    assert "ETag" not in response.headers
    assert topchef.job(job_id)["status"] == "WORKING"
