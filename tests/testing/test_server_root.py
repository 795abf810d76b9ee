# -*- coding: utf-8 -*-
"""GET / and telling the generations apart (docs/server-api.rst §2.5, §3.4 and §4)."""
import jsonschema

from topchef_conformance import allowed_methods, html_body, json_body

META_2016 = {
    "author": "Michal Kononenko",
    "email": "michalkononenko@gmail.com",
    "source_repository": "https://www.github.com/MichalKononenko/TopChef",
    "version": "0.1dev",
}

DATA_2017 = {
    "documentation_url": "https://topchef.readthedocs.io/en/latest/",
    "maintainer_email": "michalkononenko@gmail.com",
    "maintainer_name": "Michal Kononenko",
    "source_code_repository_url": "https://www.github.com/MichalKononenko/TopChef",
    "version": "0.1dev",
}


def test_the_2016_root_is_empty_data_with_author_metadata(topchef_2016):
    body = json_body(topchef_2016.get("/"), 200)
    assert body == {"data": {}, "meta": META_2016}


def test_the_2017_root_describes_the_maintainer_with_a_self_link(topchef_2017):
    body = json_body(topchef_2017.get("/"), 200)
    assert set(body) == {"data", "links", "meta"}
    assert body["data"] == DATA_2017
    assert body["links"] == {"self": topchef_2017.url("/")}


def test_the_2017_root_meta_schema_is_a_draft_4_schema_that_describes_the_data(topchef_2017):
    schema = json_body(topchef_2017.get("/"), 200)["meta"]["schema"]
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    assert schema["title"] == "API Metadata"
    assert schema["type"] == "object"
    assert set(schema["required"]) == set(DATA_2017)
    jsonschema.Draft4Validator.check_schema(schema)
    jsonschema.Draft4Validator(schema).validate(DATA_2017)


def test_the_root_shape_tells_the_generation(topchef):
    body = json_body(topchef.get("/"), 200)
    if topchef.generation == "2016":
        assert set(body) == {"data", "meta"}
        assert "author" in body["meta"]
        assert "maintainer_name" not in body["data"]
    else:
        assert set(body) == {"data", "meta", "links"}
        assert "author" not in body["meta"]
        assert "maintainer_name" in body["data"]


def test_get_validator_is_a_405_page_in_2016_and_a_description_in_2017(topchef):
    response = topchef.get("/validator")
    if topchef.generation == "2016":
        html_body(response, 405)
    else:
        json_body(response, 200)


def test_the_services_list_meta_names_the_post_schema_per_generation(topchef):
    meta = json_body(topchef.get("/services"), 200)["meta"]
    if topchef.generation == "2016":
        assert "POST_schema" in meta and "new_service_schema" not in meta
    else:
        assert "new_service_schema" in meta and "POST_schema" not in meta


def test_posting_to_the_root_is_a_405_html_page_that_allows_get(topchef):
    response = topchef.send_json("POST", "/", {"a": 1})
    html_body(response, 405)
    assert "GET" in allowed_methods(response)
