# -*- coding: utf-8 -*-
"""The broken 2016 PUT /services/<sid>/jobs/<jid>, absent in 2017.

See docs/server-api.rst §2.5 and §3.1; quirk service-job-put-500.
"""
import pytest

from topchef_conformance import (
    FALSY_JSON, FALSY_JSON_IDS, NOT_A_UUID, NOT_JSON_2016, UNKNOWN_UUID, html_body, json_body)

BODY = {"status": "COMPLETED", "result": {"sum": 4}, "parameters": {"value": 3}}


def put(topchef, service_id, job_id, body=None):
    return topchef.send_json("PUT", "/services/%s/jobs/%s" % (service_id, job_id),
                             BODY if body is None else body)


@pytest.mark.parametrize("raw", FALSY_JSON, ids=FALSY_JSON_IDS)
def test_a_falsy_body_is_rejected_by_the_json_gate(topchef_2016, raw):
    service_id = topchef_2016.register_service()
    job_id = topchef_2016.submit_job(service_id)
    response = topchef_2016.send_raw("PUT", "/services/%s/jobs/%s" % (service_id, job_id),
                                     raw, "application/json")
    assert json_body(response, 400) == NOT_JSON_2016


def test_an_unknown_service_is_a_404(topchef_2016):
    job_id = topchef_2016.submit_job(topchef_2016.register_service())
    assert json_body(put(topchef_2016, UNKNOWN_UUID, job_id), 404) == {
        "errors": "A service with id %s was not found" % UNKNOWN_UUID}


def test_an_unknown_job_of_a_known_service_is_a_404(topchef_2016):
    service_id = topchef_2016.register_service()
    assert json_body(put(topchef_2016, service_id, UNKNOWN_UUID), 404) == {
        "errors": "A job with id %s was not found" % UNKNOWN_UUID}


@pytest.mark.parametrize("body", [
    BODY,
    {"status": "WORKING"},
    {"status": "COMPLETED", "result": {"sum": 4}},
    {"results": {"sum": 4}},
], ids=["full", "status-only", "no-parameters", "results-plural"])
def test_every_other_request_is_a_500_page_and_saves_nothing(topchef_2016, body):
    service_id = topchef_2016.register_service()
    job_id = topchef_2016.submit_job(service_id)
    before = topchef_2016.job(job_id)
    html_body(put(topchef_2016, service_id, job_id, body), 500)
    assert topchef_2016.job(job_id) == before


def test_a_job_of_another_service_is_not_a_404_but_a_500_page(topchef_2016):
    service_id = topchef_2016.register_service()
    job_id = topchef_2016.submit_job(topchef_2016.register_service())
    html_body(put(topchef_2016, service_id, job_id), 500)


@pytest.mark.parametrize("which", ["service", "job"])
def test_a_malformed_id_is_a_500_page(topchef_2016, which):
    service_id = topchef_2016.register_service()
    job_id = topchef_2016.submit_job(service_id)
    if which == "service":
        service_id = NOT_A_UUID
    else:
        job_id = NOT_A_UUID
    html_body(put(topchef_2016, service_id, job_id), 500)


def test_the_route_does_not_exist_in_2017(topchef_2017):
    service_id = topchef_2017.register_service()
    job_id = topchef_2017.submit_job(service_id)
    response = put(topchef_2017, service_id, job_id)
    assert response.status_code in (404, 405)
    html_body(response, response.status_code)
    assert topchef_2017.job(job_id)["status"] == "REGISTERED"
