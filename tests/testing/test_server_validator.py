# -*- coding: utf-8 -*-
"""/validator of both generations.

See docs/server-api.rst §2.5 and §3.4; quirks validator-500 and invalid-schema-500.
"""
import pytest

from topchef_conformance import (
    DESERIALIZATION_ERROR, MISSING, NOT_A_MAPPING, NOT_NULL, SCHEMA_VALIDATION_ERROR,
    allowed_methods, deserialization_detail, errors_2017, html_body, json_body, schema_detail)

TWO_INTEGERS = {
    "type": "object",
    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
}
DRAFT_3_DIVISIBLE = {
    "$schema": "http://json-schema.org/draft-03/schema#",
    "properties": {"a": {"divisibleBy": 2}},
}
# Not a valid draft-4 schema ("minimum" must be a number), yet harmless for {}.
MALFORMED_BUT_HARMLESS = {"properties": {"a": {"minimum": "zero"}}}
BREAKS_THE_VALIDATOR = {"type": 5}
ANY_OF = {"anyOf": [{"type": "integer"}, {"type": "boolean"}]}


def validate(topchef, instance, schema):
    return topchef.send_json("POST", "/validator", {"object": instance, "schema": schema})


# --- both generations ------------------------------------------------------------

def test_a_valid_object_is_accepted(topchef):
    response = validate(topchef, {"a": 1, "b": 2}, TWO_INTEGERS)
    body = json_body(response, 200)
    if topchef.generation == "2016":
        assert body == {"data": {}}
    else:
        assert body == {"data": {"status": "Validation was successful"},
                        "links": {"self": topchef.url("/validator")}}


def test_a_schema_that_breaks_the_validator_is_a_500_html_page(topchef):
    html_body(validate(topchef, {"a": 1}, BREAKS_THE_VALIDATOR), 500)


# --- generation 2016 -------------------------------------------------------------

@pytest.mark.parametrize("instance, schema", [
    ("a", {"type": "string"}),
    (5, {"type": "integer"}),
    ([1, 2], {"type": "array", "items": {"type": "integer"}}),
    (None, {"type": "null"}),
], ids=["string", "integer", "array", "null"])
def test_the_2016_validator_accepts_any_json_value_as_the_object(topchef_2016, instance, schema):
    assert json_body(validate(topchef_2016, instance, schema), 200) == {"data": {}}


def test_an_invalid_object_is_a_400_with_message_and_empty_context_in_2016(topchef_2016):
    response = validate(topchef_2016, "a", {"type": "integer"})
    assert json_body(response, 400) == {
        "errors": {"message": "'a' is not of type 'integer'", "context": []}}


def test_the_2016_validator_reports_only_the_first_error(topchef_2016):
    response = validate(topchef_2016, {"a": "x", "b": "y"}, TWO_INTEGERS)
    errors = json_body(response, 400)["errors"]
    assert set(errors) == {"message", "context"}
    assert errors["context"] == []
    assert errors["message"] in ("'x' is not of type 'integer'", "'y' is not of type 'integer'")


def test_the_2016_validator_picks_the_draft_from_the_schemas_own_dollar_schema(topchef_2016):
    response = validate(topchef_2016, {"a": 3}, DRAFT_3_DIVISIBLE)
    assert json_body(response, 400) == {
        "errors": {"message": "3 is not a multiple of 2", "context": []}}


def test_the_2016_validator_checks_the_schema_itself_first(topchef_2016):
    html_body(validate(topchef_2016, {}, MALFORMED_BUT_HARMLESS), 500)


@pytest.mark.parametrize("body", [
    {"schema": {"type": "object"}},
    {"object": {"a": 1}},
], ids=["object-missing", "schema-missing"])
def test_a_missing_key_is_a_500_html_page_in_2016(topchef_2016, body):
    html_body(topchef_2016.send_json("POST", "/validator", body), 500)


def test_a_failure_with_sub_errors_is_a_500_html_page_in_2016(topchef_2016):
    html_body(validate(topchef_2016, "x", ANY_OF), 500)


def test_get_validator_is_a_405_html_page_that_allows_post_in_2016(topchef_2016):
    response = topchef_2016.get("/validator")
    html_body(response, 405)
    assert "POST" in allowed_methods(response)


# --- generation 2017 -------------------------------------------------------------

def test_get_validator_describes_the_validator_in_2017(topchef_2017):
    body = json_body(topchef_2017.get("/validator"), 200)
    assert set(body) == {"data", "links", "meta"}
    assert body["data"] == {}
    assert body["links"] == {"self": topchef_2017.url("/validator")}
    schema = body["meta"]["validator_schema"]
    assert set(schema["required"]) == {"object", "schema"}


def test_the_2017_validator_reports_every_violation(topchef_2017):
    response = validate(topchef_2017, {"a": "x", "b": "y"}, TWO_INTEGERS)
    details = errors_2017(response, 400, SCHEMA_VALIDATION_ERROR)
    assert sorted(details) == sorted([
        schema_detail("'x' is not of type 'integer'"),
        schema_detail("'y' is not of type 'integer'"),
    ])


@pytest.mark.parametrize("instance", [5, "x", [1], True],
                         ids=["integer", "string", "array", "boolean"])
def test_the_2017_validator_requires_the_object_to_be_a_json_object(topchef_2017, instance):
    response = validate(topchef_2017, instance, {"type": "integer"})
    details = errors_2017(response, 400, DESERIALIZATION_ERROR)
    assert details == [deserialization_detail("object", NOT_A_MAPPING)]


@pytest.mark.parametrize("schema", [5, "x", [1]], ids=["integer", "string", "array"])
def test_the_2017_validator_requires_the_schema_to_be_a_json_object(topchef_2017, schema):
    response = validate(topchef_2017, {"a": 1}, schema)
    details = errors_2017(response, 400, DESERIALIZATION_ERROR)
    assert details == [deserialization_detail("schema", NOT_A_MAPPING)]


def test_a_null_object_is_rejected_in_2017(topchef_2017):
    response = validate(topchef_2017, None, {"type": "object"})
    details = errors_2017(response, 400, DESERIALIZATION_ERROR)
    assert details == [deserialization_detail("object", NOT_NULL)]


def test_missing_object_and_schema_are_two_deserialization_errors_in_2017(topchef_2017):
    response = topchef_2017.send_json("POST", "/validator", {})
    details = errors_2017(response, 400, DESERIALIZATION_ERROR)
    assert sorted(details) == sorted([
        deserialization_detail("object", MISSING),
        deserialization_detail("schema", MISSING),
    ])


def test_the_2017_validator_uses_draft_4_whatever_dollar_schema_says(topchef_2017):
    # divisibleBy is a draft-3 keyword: draft 4 ignores it.
    response = validate(topchef_2017, {"a": 3}, DRAFT_3_DIVISIBLE)
    json_body(response, 200)


def test_the_2017_validator_does_not_check_the_schema_first(topchef_2017):
    json_body(validate(topchef_2017, {}, MALFORMED_BUT_HARMLESS), 200)


def test_a_failure_with_sub_errors_is_a_400_embedding_their_reprs_in_2017(topchef_2017):
    response = validate(topchef_2017, {"a": "x"}, {"properties": {"a": ANY_OF}})
    details = errors_2017(response, 400, SCHEMA_VALIDATION_ERROR)
    assert len(details) == 1
    assert details[0].startswith("Validation of schema [")
    assert not details[0].startswith("Validation of schema [] ")
    assert details[0].endswith("'x' is not valid under any of the given schemas")
