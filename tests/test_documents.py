"""``documents``: strict JSON, and a message that says what is not JSON and where."""
import datetime
import json

import pytest
import six

from topchef_client.documents import json_bytes, not_json


@pytest.mark.parametrize("document, said", [
    ({"value": float("nan")}, "nan at value"),
    ({"value": float("inf")}, "inf at value"),
    ({"value": -float("inf")}, "-inf at value"),
    ({"items": [1, set([2])]}, "a set at items[1]"),
    ({"when": datetime.date(2026, 12, 1)}, "a date at when"),
    ({"deep": {"er": [{"x": object()}]}}, "a object at deep.er[0].x"),
    ({(1, 2): "tuple key"}, "a tuple key"),
])
def test_a_document_json_cannot_carry_is_refused_naming_what_and_where(document, said):
    with pytest.raises(ValueError) as caught:
        json_bytes(document, "the result")
    assert str(caught.value).startswith("the result is not JSON: ")
    assert said in str(caught.value)


@pytest.mark.skipif(six.PY2, reason="bytes are text on Python 2.7")
def test_bytes_are_not_json_on_python_3():
    assert not_json({"raw": b"\x00"}) == "a bytes at raw"


def test_strict_json_is_utf8_bytes_of_the_document():
    document = {u"name": u"caf\u00e9", "n": [1, 2.5, None, True]}
    encoded = json_bytes(document)
    assert isinstance(encoded, bytes)
    assert json.loads(encoded.decode("utf-8")) == document


@pytest.mark.parametrize("document", [{}, [], None, 0, "", {"a": [{"b": None}]}])
def test_what_json_carries_has_nothing_said_against_it(document):
    assert not_json(document) is None
    json_bytes(document)
