# -*- coding: utf-8 -*-
"""POST /echo: generation 2016 only, behind the JSON gate; gone in 2017.

See docs/server-api.rst §2.5, §2.2 and §3.1.
"""
import pytest

from topchef_conformance import (
    FALSY_JSON, FALSY_JSON_IDS, NOT_JSON_2016, allowed_methods, html_body, json_body)

TRUTHY_VALUES = [
    {"a": [1, {"b": None}], "c": "text"},
    [0],
    "text",
    3.5,
    1,
    True,
]


@pytest.mark.parametrize("value", TRUTHY_VALUES,
                         ids=["object", "array", "string", "float", "one", "true"])
def test_echo_returns_any_truthy_json_body_under_data(topchef_2016, value):
    response = topchef_2016.send_json("POST", "/echo", value)
    assert json_body(response, 200) == {"data": value}


def test_echo_accepts_a_json_content_type_with_a_charset(topchef_2016):
    response = topchef_2016.send_json(
        "POST", "/echo", {"a": 1}, content_type="application/json; charset=utf-8")
    assert json_body(response, 200) == {"data": {"a": 1}}


def test_echo_keeps_non_ascii_text(topchef_2016):
    value = {"name": u"caf\u00e9 \u2603"}
    response = topchef_2016.send_json("POST", "/echo", value)
    assert json_body(response, 200) == {"data": value}


@pytest.mark.parametrize("raw", FALSY_JSON, ids=FALSY_JSON_IDS)
def test_echo_rejects_a_falsy_json_body_as_not_json_in_2016(topchef_2016, raw):
    response = topchef_2016.send_raw("POST", "/echo", raw, "application/json")
    assert json_body(response, 400) == NOT_JSON_2016


def test_echo_rejects_json_sent_as_text_plain_as_not_json(topchef_2016):
    response = topchef_2016.send_raw("POST", "/echo", '{"a": 1}', "text/plain")
    assert json_body(response, 400) == NOT_JSON_2016


def test_echo_rejects_a_missing_body_as_not_json(topchef_2016):
    response = topchef_2016.send_raw("POST", "/echo", b"")
    assert json_body(response, 400) == NOT_JSON_2016


def test_echo_answers_malformed_json_with_a_400_html_page(topchef_2016):
    response = topchef_2016.send_raw("POST", "/echo", '{"a": ', "application/json")
    html_body(response, 400)


def test_get_echo_is_a_405_html_page_that_allows_post(topchef_2016):
    response = topchef_2016.get("/echo")
    html_body(response, 405)
    assert "POST" in allowed_methods(response)


def test_echo_does_not_exist_in_2017(topchef_2017):
    response = topchef_2017.send_json("POST", "/echo", {"a": 1})
    assert response.status_code in (404, 405)
    html_body(response, response.status_code)
