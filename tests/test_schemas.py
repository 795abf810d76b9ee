"""``schemas``: local JSON Schema validation that names the failing field."""
import pytest

from topchef_client.exceptions import ValidationError
from topchef_client.schemas import Schema, describe_path, validate

from jobs import ADD_ONE_REGISTRATION_SCHEMA

NESTED_SCHEMA = {
    "type": "object",
    "properties": {
        "points": {
            "type": "array",
            "items": {"type": "object", "properties": {"x": {"type": "number"}},
                      "required": ["x"]},
        },
        "name": {"type": "string"},
    },
    "required": ["points"],
}


@pytest.mark.parametrize("path, text", [
    ([], "(top level)"),
    (["value"], "value"),
    (["points", 0, "x"], "points[0].x"),
    ([2], "[2]"),
    (["a", "b"], "a.b"),
    ([u"\u00e9t\u00e9"], u"\u00e9t\u00e9"),
])
def test_describe_path_writes_a_path_as_python_would_index_it(path, text):
    assert describe_path(path) == text


def test_a_valid_document_passes_silently():
    assert Schema(ADD_ONE_REGISTRATION_SCHEMA).validate({"value": 3}) is None


def test_is_valid_says_whether_a_document_fits():
    schema = Schema(ADD_ONE_REGISTRATION_SCHEMA)
    assert (schema.is_valid({"value": 3}), schema.is_valid({"value": 11})) == (True, False)


def test_a_failure_names_the_path_of_the_failing_field_and_the_rule():
    with pytest.raises(ValidationError) as caught:
        Schema(NESTED_SCHEMA, "parameters").validate({"points": [{"x": 1}, {"x": "two"}]})
    error = caught.value
    assert error.path == ["points", 1, "x"]
    assert error.schema_path == ["properties", "points", "items", "properties", "x", "type"]
    assert str(error) == ("invalid parameters at points[1].x: 'two' is not of type 'number' "
                          "[schema: properties/points/items/properties/x/type]")


def test_a_missing_required_field_fails_at_the_top_level():
    with pytest.raises(ValidationError) as caught:
        Schema(ADD_ONE_REGISTRATION_SCHEMA, "parameters").validate({})
    assert caught.value.path == []
    assert "invalid parameters at (top level): 'value' is a required property" in str(
        caught.value)


def test_every_problem_is_listed_in_errors():
    with pytest.raises(ValidationError) as caught:
        Schema(NESTED_SCHEMA).validate({"points": [{}], "name": 5})
    assert sorted(caught.value.errors) == sorted([
        "points[0]: 'x' is a required property", "name: 5 is not of type 'string'"])
    assert caught.value.context == caught.value.errors


def test_a_validation_error_is_a_value_error():
    with pytest.raises(ValueError):
        Schema(ADD_ONE_REGISTRATION_SCHEMA).validate({"value": "3"})


def test_a_schema_that_is_not_json_schema_fails_when_compiled():
    with pytest.raises(ValidationError) as caught:
        Schema({"type": 5}, "parameters")
    assert "cannot validate parameters: the schema is not valid JSON Schema" in str(
        caught.value)


def test_without_schema_keyword_draft_4_applies():
    # "const" arrived in draft 6: draft 4 ignores it.
    assert Schema({"const": 1}).is_valid(2) is True


def test_the_schema_keyword_chooses_the_draft():
    schema = Schema({"$schema": "http://json-schema.org/draft-06/schema#", "const": 1})
    assert (schema.is_valid(1), schema.is_valid(2)) == (True, False)


def test_draft_4_exclusive_maximum_is_a_boolean():
    schema = Schema({"type": "integer", "maximum": 10, "exclusiveMaximum": True})
    assert (schema.is_valid(9), schema.is_valid(10)) == (True, False)


def test_a_compiled_schema_is_reused_for_many_documents():
    schema = Schema(ADD_ONE_REGISTRATION_SCHEMA)
    assert [schema.is_valid({"value": value}) for value in range(12)] == [
        False] + [True] * 10 + [False]


def test_validate_checks_one_document_against_a_dict_schema():
    validate({"value": 3}, ADD_ONE_REGISTRATION_SCHEMA)
    with pytest.raises(ValidationError) as caught:
        validate({"value": 30}, ADD_ONE_REGISTRATION_SCHEMA, "result")
    assert str(caught.value).startswith("invalid result at value:")


def test_the_repr_of_a_schema_shows_it():
    assert repr(Schema({"type": "object"})) == "Schema({'type': 'object'})"


def test_a_schema_that_passes_its_own_check_but_cannot_be_applied_fails_validation_clearly():
    schema = Schema({"$ref": "#/definitions/nowhere"}, "parameters")

    with pytest.raises(ValidationError) as raised:
        schema.validate({"value": 1})

    assert str(raised.value).startswith(
        "cannot validate parameters: the schema cannot be applied:")
    assert schema.is_valid({"value": 1}) is False
