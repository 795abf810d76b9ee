# -*- coding: utf-8 -*-
"""Framework-level behaviour: unrouted paths, trailing slashes, 405 with Allow, OPTIONS,
HEAD, request bodies that are not usable JSON, path IDs in alternative UUID spellings, the
body-size limit (413) and the framing of request bodies.

See docs/server-api.rst §1, §2.1, §2.2, §3.1, §3.2; quirks falsy-json-rejected, head-405
and non-json-bodies.
"""
import json
import socket

import pytest

from topchef_conformance import (
    DESERIALIZATION_ERROR, FALSY_JSON, FALSY_JSON_IDS, INVALID_INPUT_TYPE, NOT_A_UUID,
    NOT_JSON_2016, NOT_UUID_ERROR, REQUEST_NOT_JSON, REQUEST_NOT_JSON_DETAIL, TopChef,
    UUID_FORM_NAMES, allowed_methods, assert_single_error_2017, connect, content_type,
    deserialization_detail, empty_body, errors_2017, html_body, json_body,
    receive_until_closed, uuid_forms)


def fill(path, ids):
    return path.format(**ids)


@pytest.fixture
def ids(topchef):
    """A service with one REGISTERED job, as path placeholders."""
    service_id = topchef.register_service()
    return {"sid": service_id, "jid": topchef.submit_job(service_id)}


def snapshot(topchef):
    """Everything a rejected request must leave alone."""
    return (json_body(topchef.get("/services"), 200)["data"],
            json_body(topchef.get("/jobs"), 200)["data"])


# --- unrouted paths and trailing slashes -----------------------------------------------

@pytest.mark.parametrize("path", [
    "/nonexistent", "/api/v1/services", "/services/{sid}/next", "/jobs/{jid}/previous",
    "/services/{sid}/queue/extra", "/services/", "/jobs/", "/services/{sid}/",
    "/jobs/{jid}/", "/services/{sid}/jobs/", "/services/{sid}/queue/", "/validator/",
])
def test_an_unrouted_path_is_a_404_html_page(topchef, ids, path):
    html_body(topchef.get(fill(path, ids)), 404)


@pytest.mark.parametrize("path", ["/echo/", "/jobs/{jid}/next/"])
def test_a_2016_route_with_a_trailing_slash_is_a_404_html_page(topchef_2016, path):
    service_id = topchef_2016.register_service()
    ids = {"sid": service_id, "jid": topchef_2016.submit_job(service_id)}
    html_body(topchef_2016.request("GET", fill(path, ids)), 404)


@pytest.mark.parametrize("path", ["/echo", "/jobs/{jid}/next"])
def test_the_2016_only_paths_are_unrouted_in_2017(topchef_2017, path):
    service_id = topchef_2017.register_service()
    ids = {"sid": service_id, "jid": topchef_2017.submit_job(service_id)}
    html_body(topchef_2017.get(fill(path, ids)), 404)


# --- 405 with Allow ----------------------------------------------------------------------

METHOD_NOT_ALLOWED_2016 = [
    ("DELETE", "/services", {"GET", "POST"}),
    ("PUT", "/services", {"GET", "POST"}),
    ("DELETE", "/services/{sid}", {"GET", "PATCH"}),
    ("POST", "/services/{sid}", {"GET", "PATCH"}),
    ("PUT", "/services/{sid}/jobs", {"GET", "POST"}),
    ("POST", "/services/{sid}/queue", {"GET"}),
    ("POST", "/jobs", {"GET"}),
    ("DELETE", "/jobs/{jid}", {"GET", "PUT"}),
    ("PATCH", "/jobs/{jid}", {"GET", "PUT"}),
    ("POST", "/jobs/{jid}/next", {"GET"}),
    ("GET", "/services/{sid}/jobs/{jid}", {"PUT"}),
    ("GET", "/echo", {"POST"}),
    ("GET", "/validator", {"POST"}),
    ("DELETE", "/", {"GET"}),
]
METHOD_NOT_ALLOWED_2017 = [
    ("DELETE", "/services", {"GET", "POST"}),
    ("PUT", "/services", {"GET", "POST"}),
    ("DELETE", "/services/{sid}", {"GET", "PATCH"}),
    ("PUT", "/services/{sid}", {"GET", "PATCH"}),
    ("POST", "/services/{sid}", {"GET", "PATCH"}),
    ("DELETE", "/services/{sid}/jobs", {"GET", "POST"}),
    ("POST", "/services/{sid}/queue", {"GET"}),
    ("POST", "/services/{sid}/jobs/next", {"GET"}),
    ("POST", "/jobs", {"GET"}),
    ("DELETE", "/jobs/{jid}", {"GET", "PATCH"}),
    ("PUT", "/jobs/{jid}", {"GET", "PATCH"}),
    ("DELETE", "/validator", {"GET", "POST"}),
    ("POST", "/", {"GET"}),
]


def _check_405(topchef, method, path, expected):
    service_id = topchef.register_service()
    ids = {"sid": service_id, "jid": topchef.submit_job(service_id)}
    before = snapshot(topchef)
    response = topchef.send_json(method, fill(path, ids), {"status": "WORKING"})
    html_body(response, 405)
    allow = allowed_methods(response)
    assert expected <= allow
    assert method not in allow
    assert snapshot(topchef) == before


@pytest.mark.parametrize("method, path, expected", METHOD_NOT_ALLOWED_2016,
                         ids=["%s %s" % (m, p) for m, p, _ in METHOD_NOT_ALLOWED_2016])
def test_a_method_the_route_does_not_accept_is_a_405_page_with_allow_in_2016(
        topchef_2016, method, path, expected):
    _check_405(topchef_2016, method, path, expected)


@pytest.mark.parametrize("method, path, expected", METHOD_NOT_ALLOWED_2017,
                         ids=["%s %s" % (m, p) for m, p, _ in METHOD_NOT_ALLOWED_2017])
def test_a_method_the_route_does_not_accept_is_a_405_page_with_allow_in_2017(
        topchef_2017, method, path, expected):
    _check_405(topchef_2017, method, path, expected)


# --- OPTIONS --------------------------------------------------------------------------------

OPTIONS_2016 = [
    ("/", {"GET"}), ("/echo", {"POST"}), ("/validator", {"POST"}),
    ("/services", {"GET", "POST"}), ("/services/{sid}", {"GET", "PATCH"}),
    ("/services/{sid}/jobs", {"GET", "POST"}), ("/services/{sid}/queue", {"GET"}),
    ("/jobs", {"GET"}), ("/jobs/{jid}", {"GET", "PUT"}), ("/jobs/{jid}/next", {"GET"}),
    ("/services/{sid}/jobs/{jid}", {"PUT"}),
]
OPTIONS_2017 = [
    ("/", {"GET"}), ("/validator", {"GET", "POST"}),
    ("/services", {"GET", "POST"}), ("/services/{sid}", {"GET", "PATCH"}),
    ("/services/{sid}/jobs", {"GET", "POST"}), ("/services/{sid}/jobs/next", {"GET"}),
    ("/services/{sid}/queue", {"GET"}), ("/jobs", {"GET"}), ("/jobs/{jid}", {"GET", "PATCH"}),
]


def _check_options(topchef, path, expected):
    service_id = topchef.register_service()
    ids = {"sid": service_id, "jid": topchef.submit_job(service_id)}
    response = topchef.request("OPTIONS", fill(path, ids))
    empty_body(response, 200)
    allow = allowed_methods(response)
    assert expected <= allow
    assert "DELETE" not in allow


@pytest.mark.parametrize("path, expected", OPTIONS_2016, ids=[p for p, _ in OPTIONS_2016])
def test_options_answers_200_empty_with_the_routes_methods_in_2016(topchef_2016, path, expected):
    _check_options(topchef_2016, path, expected)


@pytest.mark.parametrize("path, expected", OPTIONS_2017, ids=[p for p, _ in OPTIONS_2017])
def test_options_answers_200_empty_with_the_routes_methods_in_2017(topchef_2017, path, expected):
    _check_options(topchef_2017, path, expected)


# --- HEAD -------------------------------------------------------------------------------------

HEAD_PATHS_2016 = [
    "/", "/services", "/services/{sid}", "/services/{sid}/jobs", "/services/{sid}/queue",
    "/jobs", "/jobs/{jid}", "/jobs/{jid}/next", "/services/" + NOT_A_UUID,
    "/jobs/" + NOT_A_UUID, "/jobs/12345678-1234-4234-9234-123456789abc",
]
HEAD_PATHS_2017 = [
    "/", "/services", "/services/{sid}", "/services/{sid}/jobs", "/services/{sid}/queue",
    "/services/{sid}/jobs/next", "/jobs", "/jobs/{jid}", "/validator",
]


@pytest.mark.parametrize("path", HEAD_PATHS_2016)
def test_head_answers_like_get_without_a_body_in_2016(topchef_2016, path):
    service_id = topchef_2016.register_service()
    ids = {"sid": service_id, "jid": topchef_2016.submit_job(service_id)}
    expected = topchef_2016.get(fill(path, ids)).status_code
    response = topchef_2016.request("HEAD", fill(path, ids))
    empty_body(response, expected)


@pytest.mark.parametrize("path", HEAD_PATHS_2017)
def test_head_is_a_405_with_a_json_content_type_and_no_body_in_2017(topchef_2017, path):
    service_id = topchef_2017.register_service()
    ids = {"sid": service_id, "jid": topchef_2017.submit_job(service_id)}
    response = topchef_2017.request("HEAD", fill(path, ids))
    assert empty_body(response, 405).startswith("application/json")


# --- bodies that are not usable JSON ------------------------------------------------------------

GATED_2016 = [
    ("POST", "/echo"), ("POST", "/validator"), ("POST", "/services"),
    ("POST", "/services/{sid}/jobs"), ("PUT", "/jobs/{jid}"), ("PUT", "/services/{sid}/jobs/{jid}"),
]
GATED_2016_IDS = ["%s %s" % pair for pair in GATED_2016]

NOT_JSON_CASES = [
    ("no-body", b"", None),
    ("text-plain", '{"parameters": {"value": 1}}', "text/plain"),
    ("form-encoded", "parameters=1", "application/x-www-form-urlencoded"),
]
NOT_JSON_CASE_IDS = [case[0] for case in NOT_JSON_CASES]
MALFORMED_CASES = [
    ("empty", ""), ("truncated", '{"parameters": '), ("garbage", "not json at all"),
    ("single-quotes", "{'a': 1}"),
]
MALFORMED_CASE_IDS = [case[0] for case in MALFORMED_CASES]


def _gate_ids(topchef):
    service_id = topchef.register_service()
    return {"sid": service_id, "jid": topchef.submit_job(service_id)}


@pytest.mark.parametrize("raw", FALSY_JSON, ids=FALSY_JSON_IDS)
@pytest.mark.parametrize("method, path", GATED_2016, ids=GATED_2016_IDS)
def test_a_falsy_json_body_is_not_json_to_the_2016_gate(topchef_2016, method, path, raw):
    ids = _gate_ids(topchef_2016)
    before = snapshot(topchef_2016)
    response = topchef_2016.send_raw(method, fill(path, ids), raw, "application/json")
    assert json_body(response, 400) == NOT_JSON_2016
    assert snapshot(topchef_2016) == before


@pytest.mark.parametrize("case, data, mime", NOT_JSON_CASES, ids=NOT_JSON_CASE_IDS)
@pytest.mark.parametrize("method, path", GATED_2016, ids=GATED_2016_IDS)
def test_a_body_without_a_json_content_type_is_not_json_to_the_2016_gate(
        topchef_2016, method, path, case, data, mime):
    ids = _gate_ids(topchef_2016)
    before = snapshot(topchef_2016)
    response = topchef_2016.send_raw(method, fill(path, ids), data, mime)
    assert json_body(response, 400) == NOT_JSON_2016
    assert snapshot(topchef_2016) == before


@pytest.mark.parametrize("case, data", MALFORMED_CASES, ids=MALFORMED_CASE_IDS)
@pytest.mark.parametrize("method, path", GATED_2016, ids=GATED_2016_IDS)
def test_malformed_json_is_a_400_html_page_in_2016(topchef_2016, method, path, case, data):
    ids = _gate_ids(topchef_2016)
    before = snapshot(topchef_2016)
    html_body(topchef_2016.send_raw(method, fill(path, ids), data, "application/json"), 400)
    assert snapshot(topchef_2016) == before


BODIES_2017 = [
    ("POST", "/services"), ("POST", "/services/{sid}/jobs"), ("PATCH", "/jobs/{jid}"),
    ("POST", "/validator"),
]
BODIES_2017_IDS = ["%s %s" % pair for pair in BODIES_2017]
REQUEST_NOT_JSON_CASES_2017 = NOT_JSON_CASES + [
    ("empty-json", "", "application/json"),
    ("truncated", '{"parameters": ', "application/json"),
    ("garbage", "not json at all", "application/json"),
    ("null", "null", "application/json"),
]


@pytest.mark.parametrize("case, data, mime", REQUEST_NOT_JSON_CASES_2017,
                         ids=[case[0] for case in REQUEST_NOT_JSON_CASES_2017])
@pytest.mark.parametrize("method, path", BODIES_2017, ids=BODIES_2017_IDS)
def test_a_body_without_usable_json_is_request_not_json_in_2017(
        topchef_2017, method, path, case, data, mime):
    ids = _gate_ids(topchef_2017)
    before = snapshot(topchef_2017)
    job_before = topchef_2017.job(ids["jid"])
    response = topchef_2017.send_raw(method, fill(path, ids), data, mime)
    assert_single_error_2017(response, 400, REQUEST_NOT_JSON, REQUEST_NOT_JSON_DETAIL)
    assert snapshot(topchef_2017) == before
    assert topchef_2017.job(ids["jid"]) == job_before


@pytest.mark.parametrize("raw", ["[]", "[1]", "5", '"x"', "true", "false", "0"])
@pytest.mark.parametrize("method, path", BODIES_2017, ids=BODIES_2017_IDS)
def test_a_json_body_that_is_not_an_object_is_an_invalid_input_type_in_2017(
        topchef_2017, method, path, raw):
    ids = _gate_ids(topchef_2017)
    before = snapshot(topchef_2017)
    response = topchef_2017.send_raw(method, fill(path, ids), raw, "application/json")
    details = errors_2017(response, 400, DESERIALIZATION_ERROR)
    assert details == [deserialization_detail("_schema", INVALID_INPUT_TYPE)]
    assert snapshot(topchef_2017) == before


@pytest.mark.parametrize("mime", ["application/json; charset=utf-8",
                                  "application/json;charset=UTF-8"])
def test_a_json_content_type_with_parameters_is_accepted(topchef, mime):
    body = topchef.registration_body()
    json_body(topchef.send_json("POST", "/services", body, content_type=mime), 201)


def test_a_plus_json_content_type_is_accepted_in_2017(topchef_2017):
    body = topchef_2017.registration_body()
    response = topchef_2017.send_json("POST", "/services", body,
                                      content_type="application/vnd.topchef+json")
    json_body(response, 201)


def test_the_xmlhttprequest_header_does_not_change_the_content(topchef):
    plain = json_body(topchef.get("/services"), 200)
    compact = json_body(topchef.get("/services", headers={"X-Requested-With": "XMLHttpRequest"}),
                        200)
    assert compact == plain


# --- path IDs -----------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [
    NOT_A_UUID, "1234", "12345678-1234-4234-9234-123456789ab", "g" * 32,
    "12345678-1234-4234-9234-123456789abcd",
], ids=["words", "short-number", "one-digit-short", "non-hex", "one-digit-long"])
def test_a_path_id_that_is_not_a_uuid_is_a_404_on_service_and_job_detail(topchef, bad):
    service = topchef.get("/services/" + bad)
    job = topchef.get("/jobs/" + bad)
    if topchef.generation == "2016":
        assert json_body(service, 404) == {
            "errors": "The service id %s is not a UUID. No service with this id exists" % bad}
        assert json_body(job, 404) == {"errors": "Could not parse job_id=%s as a UUID" % bad}
    else:
        detail = "The string %s could not be converted to a UUID" % bad
        assert_single_error_2017(service, 404, NOT_UUID_ERROR, detail)
        assert_single_error_2017(job, 404, NOT_UUID_ERROR, detail)


def _probe_service_detail(topchef, sid, jid, sid_form, jid_form):
    assert json_body(topchef.get("/services/" + sid_form), 200)["data"]["id"] == sid


def _probe_job_detail(topchef, sid, jid, sid_form, jid_form):
    assert json_body(topchef.get("/jobs/" + jid_form), 200)["data"]["id"] == jid


def _probe_heartbeat(topchef, sid, jid, sid_form, jid_form):
    json_body(topchef.patch("/services/" + sid_form), 200)


def _probe_queue(topchef, sid, jid, sid_form, jid_form):
    data = json_body(topchef.get("/services/%s/queue" % sid_form), 200)["data"]
    assert [job["id"] for job in data] == [jid]


def _probe_update(topchef, sid, jid, sid_form, jid_form):
    if topchef.generation == "2016":
        body = {"status": "WORKING", "result": {}, "parameters": {"value": 1}}
        job = json_body(topchef.send_json("PUT", "/jobs/" + jid_form, body), 200)
        assert job["data"]["job_schema"]["id"] == jid
    else:
        job = json_body(topchef.send_json("PATCH", "/jobs/" + jid_form, {"status": "WORKING"}),
                        200)
        assert job["id"] == jid
    assert topchef.job(jid)["status"] == "WORKING"


def _probe_2016_next(topchef, sid, jid, sid_form, jid_form):
    response = topchef.get("/jobs/%s/next" % jid_form)
    assert response.status_code in (204, 302)


def _probe_2017_jobs(topchef, sid, jid, sid_form, jid_form):
    data = json_body(topchef.get("/services/%s/jobs" % sid_form), 200)["data"]
    assert [job["id"] for job in data] == [jid]
    json_body(topchef.send_json("POST", "/services/%s/jobs" % sid_form,
                                {"parameters": {"value": 1}}), 201)
    assert len(json_body(topchef.get("/services/%s/jobs" % sid), 200)["data"]) == 2


def _probe_2017_next(topchef, sid, jid, sid_form, jid_form):
    body = json_body(topchef.get("/services/%s/jobs/next" % sid_form), 200)
    assert body["data"]["id"] == jid


PROBES_2016 = [_probe_service_detail, _probe_job_detail, _probe_heartbeat, _probe_queue,
               _probe_update, _probe_2016_next]
PROBES_2017 = [_probe_service_detail, _probe_job_detail, _probe_heartbeat, _probe_queue,
               _probe_update, _probe_2017_jobs, _probe_2017_next]


def _run_probe(topchef, probe, form):
    sid = topchef.register_service()
    jid = topchef.submit_job(sid)
    probe(topchef, sid, jid, uuid_forms(sid)[form], uuid_forms(jid)[form])


@pytest.mark.parametrize("form", UUID_FORM_NAMES)
@pytest.mark.parametrize("probe", PROBES_2016, ids=[p.__name__[7:] for p in PROBES_2016])
def test_an_alternative_uuid_spelling_in_the_path_is_accepted_in_2016(topchef_2016, probe, form):
    _run_probe(topchef_2016, probe, form)


@pytest.mark.parametrize("form", UUID_FORM_NAMES)
@pytest.mark.parametrize("probe", PROBES_2017, ids=[p.__name__[7:] for p in PROBES_2017])
def test_an_alternative_uuid_spelling_in_the_path_is_accepted_in_2017(topchef_2017, probe, form):
    _run_probe(topchef_2017, probe, form)


# --- body size limit ------------------------------------------------------------------------------

SMALL_LIMIT = 1024


@pytest.fixture(scope="module")
def _small_limit_servers():
    from topchef_client.testing import ServerPool

    pool = ServerPool(max_body_size=SMALL_LIMIT)
    yield pool.get
    pool.stop()


@pytest.fixture(params=["2016", "2017"])
def small_limit(request, _small_limit_servers):
    server = _small_limit_servers(request.param)
    server.reset()
    helper = TopChef(server)
    request.addfinalizer(helper.close)
    return helper


def registration_of_size(topchef, size):
    body = topchef.registration_body(description="")
    padding = size - len(json.dumps(body).encode("utf-8"))
    assert padding >= 0
    body["description"] = "x" * padding
    data = json.dumps(body).encode("utf-8")
    assert len(data) == size
    return data


def test_a_body_of_exactly_the_limit_is_accepted(small_limit):
    data = registration_of_size(small_limit, SMALL_LIMIT)
    json_body(small_limit.send_raw("POST", "/services", data, "application/json"), 201)


def test_a_body_one_byte_over_the_limit_is_a_413_and_creates_nothing(small_limit):
    data = registration_of_size(small_limit, SMALL_LIMIT + 1)
    response = small_limit.send_raw("POST", "/services", data, "application/json")
    assert response.status_code == 413
    assert json_body(small_limit.get("/services"), 200)["data"] == []


def test_an_oversized_job_update_is_a_413_and_changes_nothing(small_limit):
    job_id = small_limit.submit_job(small_limit.register_service())
    before = small_limit.job(job_id)
    big = {"sum": 1, "padding": "x" * (2 * SMALL_LIMIT)}
    if small_limit.generation == "2016":
        response = small_limit.send_json(
            "PUT", "/jobs/" + job_id,
            {"status": "COMPLETED", "result": big, "parameters": {"value": 1}})
    else:
        response = small_limit.send_json("PATCH", "/jobs/" + job_id,
                                         {"status": "COMPLETED", "results": big})
    assert response.status_code == 413
    assert small_limit.job(job_id) == before


def test_the_default_limit_is_one_mebibyte(topchef):
    data = registration_of_size(topchef, 1048576 + 1)
    response = topchef.send_raw("POST", "/services", data, "application/json")
    assert response.status_code == 413
    data = registration_of_size(topchef, 1048576)
    json_body(topchef.send_raw("POST", "/services", data, "application/json"), 201)


def test_json_answers_say_application_json(topchef):
    assert content_type(topchef.get("/services")).startswith("application/json")


# --- request body framing ------------------------------------------------------------------

def exchange_raw(topchef, data):
    """Send ``data`` on a connection of its own, close the writing side, return all the answer."""
    sock = connect(topchef.server.url)
    try:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        return receive_until_closed(sock)
    finally:
        sock.close()


def raw_post(path, headers, body):
    head = "POST %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n" % path
    return (head + "".join("%s: %s\r\n" % pair for pair in headers) + "\r\n").encode(
        "latin-1") + body


def chunked(data, size):
    """``data`` in the chunked transfer coding, ``size`` bytes a chunk, with a trailer."""
    pieces = [data[start:start + size] for start in range(0, len(data), size)]
    return b"".join(b"%x;note=1\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + (
        b"0\r\nX-Trailer: yes\r\n\r\n")


def test_a_chunked_request_body_is_read_whole(topchef):
    body = json.dumps(topchef.registration_body(name="Chunked")).encode("utf-8")

    answer = exchange_raw(topchef, raw_post(
        "/services", [("Transfer-Encoding", "chunked")], chunked(body, 7)))

    assert answer.startswith(b"HTTP/1.1 201 "), answer[:200]
    names = [service["name"] for service in json_body(topchef.get("/services"), 200)["data"]]
    assert names == ["Chunked"]


def test_a_chunked_body_over_the_limit_is_a_413_and_creates_nothing(small_limit):
    data = registration_of_size(small_limit, SMALL_LIMIT + 1)

    response = small_limit.send_raw("POST", "/services", iter([data[:100], data[100:]]),
                                    "application/json")

    assert response.status_code == 413
    assert json_body(small_limit.get("/services"), 200)["data"] == []


@pytest.mark.parametrize("framing, status", [
    ([("Transfer-Encoding", "chunked")], 400),
    ([("Transfer-Encoding", "gzip")], 501),
    ([("Content-Length", "-5")], 400),
    ([("Content-Length", "5, 6")], 400),
], ids=["bad-chunk-size", "unknown-coding", "negative-length", "two-lengths"])
def test_broken_body_framing_is_answered_with_html_and_closes_the_connection(
        topchef, framing, status):
    answer = exchange_raw(topchef, raw_post("/services", framing, b"zz\r\n{}\r\n0\r\n\r\n"))

    head = answer.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    assert head.startswith("HTTP/1.1 %d " % status), answer[:200]
    assert "Content-Type: text/html" in head and "Connection: close" in head
    assert json_body(topchef.get("/services"), 200)["data"] == []


def test_a_body_cut_short_gets_no_answer_and_changes_nothing(topchef):
    body = json.dumps(topchef.registration_body()).encode("utf-8")

    answer = exchange_raw(topchef, raw_post(
        "/services", [("Content-Length", str(len(body) + 10))], body))

    assert answer == b""
    assert json_body(topchef.get("/services"), 200)["data"] == []
