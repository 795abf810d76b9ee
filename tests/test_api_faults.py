"""``api.Connection`` through a FaultProxy: a server that is down, silent, flaky or lying.

A proxy sits in front of the local server of each generation; test data is
set up directly on the server, so that the proxy's request log holds only
what the code under test sent.
"""

import pytest
import requests

from topchef_client import (
    BadRequest, Connection, NetworkError, ProtocolError, ResponseTimeout, ServerError,
    ServiceNotFound, TopChef, ValidationError)
from topchef_client.api import make_retry
from topchef_client.compat import monotonic
from topchef_client.testing import Delay, FaultProxy, Hang, Reset, Respond, Truncate

from jobs import ADD_ONE_REGISTRATION_SCHEMA, ADD_ONE_RESULT_SCHEMA
from support import wait_until

ONLY_2016 = pytest.mark.parametrize("generation", ["2016"])
RETRIES = 2
#: Seconds to connect, seconds to wait for an answer: short, so that faults cost little.
TIMEOUT = (1.0, 0.3)
#: For the tests where every request is meant to go unanswered: the timeout
#: itself is what they wait for.
IMPATIENT_TIMEOUT = (1.0, 0.05)
#: A Delay that holds its request back until the test removes the rule.
HELD = 30
#: RETRIES, with pauses of about 10 ms instead of the default 0.2 s and more.
FAST_RETRIES = make_retry(RETRIES, backoff_factor=0.01)
#: Room for thread scheduling and the backoff pauses on a busy machine.
SLACK = 1.0
HTML_PAGE = ("<!DOCTYPE html>\n<html><head><title>{0}</title></head>\n"
             "<body><h1>{0}</h1><p>nginx</p></body></html>\n")
JSON = "application/json"
HTML = "text/html; charset=utf-8"
SERVICE_PATH = r"^/services/[0-9a-f-]{36}$"
JOBS_PATH = r"^/services/[0-9a-f-]{36}/jobs$"


def html(title):
    return HTML_PAGE.format(title)


@pytest.fixture(scope="module")
def proxies():
    """One proxy per server generation for the module: starting one per test costs more."""
    started = {}

    def proxy_for(server):
        if server.generation not in started:
            started[server.generation] = FaultProxy(server.url).start()
        return started[server.generation]

    yield proxy_for
    for proxy in started.values():
        proxy.stop()


@pytest.fixture
def proxy(proxies, server):
    """The proxy in front of ``server``: up, without rules, with an empty request log."""
    proxy = proxies(server)
    proxy.clear_rules()
    proxy.come_up()
    proxy.clear_requests()
    yield proxy
    proxy.clear_rules()


@pytest.fixture
def service(connection):
    """AddOne, registered on the server directly, not through the proxy."""
    return connection.register_service("AddOne", "Adds one", ADD_ONE_REGISTRATION_SCHEMA,
                                       ADD_ONE_RESULT_SCHEMA)


@pytest.fixture
def client(proxy, server):
    """A Connection through the proxy that already knows the server's generation."""
    with Connection(proxy.url, retries=FAST_RETRIES, timeout=TIMEOUT,
                    generation=server.generation) as client:
        yield client


@pytest.fixture
def impatient_client(proxy, server):
    """``client`` with IMPATIENT_TIMEOUT, for requests that are never to be answered in time."""
    with Connection(proxy.url, retries=FAST_RETRIES, timeout=IMPATIENT_TIMEOUT,
                    generation=server.generation) as client:
        yield client


def recorded(proxy, method=None, path=None):
    """The faults applied to the recorded requests with this method and path."""
    return [record.fault for record in proxy.requests
            if (method is None or record.method == method) and
            (path is None or record.path == path)]


def assert_names_the_exchange(error, method, url, status, body_text):
    message = str(error)
    assert "%s %s" % (method, url) in message
    assert "answered %d" % status in message
    assert body_text in message
    assert (error.method, error.url, error.status_code) == (method, url, status)


# --- down, silent ---------------------------------------------------------------------

def test_a_server_that_is_down_is_a_network_error_after_bounded_retries(proxy):
    proxy.go_down()
    connection = Connection(proxy.url, retries=RETRIES, timeout=TIMEOUT)
    started = monotonic()
    with pytest.raises(NetworkError) as caught:
        connection.list_services()
    assert monotonic() - started < TIMEOUT[0] * (RETRIES + 1) + SLACK
    assert not isinstance(caught.value, ResponseTimeout)
    assert "connection failed: GET %s/" % proxy.url in str(caught.value)


def test_a_server_that_comes_back_is_used_again(proxy, client):
    proxy.go_down()
    with pytest.raises(NetworkError):
        client.list_services()
    proxy.come_up()
    assert client.list_services() == []


def test_a_server_that_never_answers_is_a_response_timeout_within_its_bound(
        proxy, impatient_client):
    proxy.add_rule(Hang(), path=r"^/services$")
    started = monotonic()
    with pytest.raises(ResponseTimeout) as caught:
        impatient_client.list_services()
    elapsed = monotonic() - started
    read_timeout = IMPATIENT_TIMEOUT[1]
    assert read_timeout * (RETRIES + 1) <= elapsed < read_timeout * (RETRIES + 1) + SLACK
    assert recorded(proxy, "GET", "/services") == ["Hang"] * (RETRIES + 1)
    assert "no answer in time: GET %s/services" % proxy.url in str(caught.value)


def test_a_submission_that_gets_no_answer_is_sent_once(
        proxy, impatient_client, server, service):
    proxy.add_rule(Hang(), method="POST")
    started = monotonic()
    with pytest.raises(ResponseTimeout):
        impatient_client.submit_job(service.id, {"value": 1})
    assert monotonic() - started < IMPATIENT_TIMEOUT[1] + SLACK
    assert recorded(proxy, "POST") == ["Hang"]  # not sent again


def test_a_submission_answered_too_late_creates_exactly_one_job(
        proxy, impatient_client, server, service):
    late = proxy.add_rule(Delay(HELD), method="POST")
    with pytest.raises(ResponseTimeout):
        impatient_client.submit_job(service.id, {"value": 1})
    assert server.jobs() == []  # not there yet: the client gave up first
    late.remove()  # the submission reaches the server now
    wait_until(lambda: server.jobs(), timeout=5)
    assert recorded(proxy, "POST") == ["Delay"]
    assert [job["parameters"] for job in server.jobs()] == [{"value": 1}]


# --- transient failures -------------------------------------------------------------------

def test_a_burst_of_503s_on_a_get_is_ridden_out_by_retries(proxy, client, service):
    proxy.add_rule(Respond(503, html("503 Service Unavailable"), content_type=HTML),
                   method="GET", path=r"^/services$", times=RETRIES)
    assert [found.id for found in client.list_services()] == [service.id]
    assert recorded(proxy, "GET", "/services") == ["Respond"] * RETRIES + [None]


def test_more_503s_than_retries_is_a_server_error(proxy, client):
    proxy.add_rule(Respond(503, html("503 Service Unavailable"), content_type=HTML),
                   path=r"^/services$")
    with pytest.raises(ServerError) as caught:
        client.list_services()
    assert_names_the_exchange(caught.value, "GET", proxy.url + "/services", 503,
                              "503 Service Unavailable")
    assert recorded(proxy, "GET", "/services") == ["Respond"] * (RETRIES + 1)


def test_a_submission_answered_503_is_not_retried_and_creates_no_job(
        proxy, client, server, service):
    proxy.add_rule(Respond(503, html("503 Service Unavailable"), content_type=HTML),
                   method="POST", times=1)
    with pytest.raises(ServerError):
        client.submit_job(service.id, {"value": 1})
    assert recorded(proxy, "POST") == ["Respond"]
    assert server.jobs() == []
    job = client.submit_job(service.id, {"value": 1})
    assert [stored["id"] for stored in server.jobs()] == [job.id]


def test_a_submission_reset_after_forwarding_is_a_network_error_and_one_job(
        proxy, client, server, service):
    proxy.add_rule(Reset(after_forwarding=True), method="POST", times=1)
    with pytest.raises(NetworkError) as caught:
        client.submit_job(service.id, {"value": 1})
    assert "POST %s/services/%s/jobs" % (proxy.url, service.id) in str(caught.value)
    assert recorded(proxy, "POST") == ["Reset"]
    assert [job["parameters"] for job in server.jobs()] == [{"value": 1}]


def test_a_get_whose_connection_is_reset_is_sent_again(proxy, client, service):
    proxy.add_rule(Reset(), method="GET", path=SERVICE_PATH, times=1)
    assert client.get_service(service.id).id == service.id
    assert recorded(proxy, "GET") == ["Reset", None]


def test_the_submitter_survives_a_server_restart_between_calls(proxy, server, service):
    with TopChef(proxy.url, retries=RETRIES, timeout=TIMEOUT) as topchef:
        assert [found.id for found in topchef.services()] == [service.id]
        proxy.go_down()
        proxy.come_up()
        job = topchef.submit(service, {"value": 2})
    assert [stored["id"] for stored in server.jobs()] == [job.id]


# --- answers that are not what the API promises ------------------------------------------

@pytest.mark.parametrize("body, content_type, excerpt", [
    (html("Welcome"), HTML, "<title>Welcome</title>"),
    ("", JSON, "(empty body)"),
    ('{"data": [', JSON, '{"data": ['),
    ("data=1&meta=2", "application/x-www-form-urlencoded", "data=1&meta=2"),
    (b'{"data": "caf\xff"}', JSON, '{"data": "caf'),
], ids=["html-page", "empty", "cut-json", "not-json", "not-utf-8"])
def test_an_answer_that_is_not_json_is_a_protocol_error(
        proxy, client, body, content_type, excerpt):
    proxy.add_rule(Respond(200, body, content_type=content_type), path=r"^/services$")
    with pytest.raises(ProtocolError) as caught:
        client.list_services()
    assert_names_the_exchange(caught.value, "GET", proxy.url + "/services", 200, excerpt)


@pytest.mark.parametrize("call, path, body, problem", [
    ("list_services", r"^/services$", '{"data": {}}', "is a dict, not a list"),
    ("list_services", r"^/services$", "[1, 2]", "has no 'data' member"),
    ("list_services", r"^/services$", '{"data": [1]}', "a service in the answer has no id"),
    ("list_services", r"^/services$", '{"data": [{"name": "x"}]}', "has no id"),
    ("get_service", SERVICE_PATH, '{"data": {"id": "s", "job_registration_schema": "x"}}',
     "job_registration_schema of the wrong type"),
    ("get_job", r"^/jobs/", '{"data": {"id": 5}}', "a job in the answer has no id"),
    ("get_job", r"^/jobs/", '{"data": {"id": "j", "date_submitted": 5}}',
     "date_submitted of the wrong type"),
    ("get_job", r"^/jobs/", '{"data": {"id": "j", "parameters": [1]}}',
     "parameters of the wrong type"),
    ("list_jobs", JOBS_PATH, '{"data": [{"id": "j", "status": 3}]}',
     "status of the wrong type"),
    ("generation", r"^/$", '{"data": {}, "hello": "world"}', "not a TopChef server"),
])
def test_a_json_answer_of_the_wrong_shape_is_a_protocol_error(
        proxy, server, service, call, path, body, problem):
    proxy.add_rule(Respond(200, body, content_type=JSON), method="GET", path=path)
    client = Connection(proxy.url, retries=FAST_RETRIES, timeout=TIMEOUT)
    if call != "generation":
        assert client.generation == server.generation
    with pytest.raises(ProtocolError) as caught:
        if call == "generation":
            client.generation
        elif call == "list_services":
            client.list_services()
        else:
            getattr(client, call)(service.id)
    (method, target, _), = [record for record in proxy.requests if record.fault]
    assert problem in str(caught.value)
    assert_names_the_exchange(caught.value, method, proxy.url + target, 200, body[:8])


def _raw_size(url):
    """The size of a GET's status line and headers, and of its body."""
    response = requests.get(url, timeout=5)
    head = len("HTTP/1.1 %d %s\r\n\r\n" % (response.status_code, response.reason)) + sum(
        len("%s: %s\r\n" % header) for header in response.headers.items())
    return head, len(response.content)


def test_a_body_cut_short_is_a_protocol_error(proxy, client, connection):
    for number in range(6):
        connection.register_service("Service %d" % number, "x" * 100, {"type": "object"})
    head, body = _raw_size(proxy.url + "/services")
    proxy.clear_requests()
    proxy.add_rule(Truncate(head + body // 2), path=r"^/services$")
    with pytest.raises(ProtocolError) as caught:
        client.list_services()
    assert "cut short" in str(caught.value)
    assert "GET %s/services" % proxy.url in str(caught.value)
    assert caught.value.status_code == 200
    assert recorded(proxy, "GET", "/services") == ["Truncate"]


def test_a_status_line_cut_short_is_a_network_error(proxy, client):
    proxy.add_rule(Truncate(5), path=r"^/services$")
    with pytest.raises(NetworkError) as caught:
        client.list_services()
    assert "GET %s/services" % proxy.url in str(caught.value)
    assert recorded(proxy, "GET", "/services") == ["Truncate"] * (RETRIES + 1)


@ONLY_2016
def test_a_2016_500_for_valid_parameters_stays_a_server_error(proxy, client, service):
    proxy.add_rule(Respond(500, html("500 Internal Server Error"), content_type=HTML),
                   method="POST")
    with pytest.raises(ServerError) as caught:
        client.submit_job(service.id, {"value": 1})
    assert not isinstance(caught.value, ValidationError)
    assert caught.value.status_code == 500
    # The client looked at the schema before it gave up.
    assert recorded(proxy) == ["Respond", None]


# --- status codes -------------------------------------------------------------------------

@pytest.mark.parametrize("status, body, content_type, headers, error_class, excerpt", [
    (400, '{"errors": [{"status_code": 400, "title": "Request Not JSON", "detail": "no"}]}',
     JSON, {}, BadRequest, "Request Not JSON: no"),
    (400, '{"errors": {"parameters": ["Missing data for required field."]}}',
     JSON, {}, BadRequest, "Missing data for required field."),
    (404, '{"errors": "A service with id x was not found"}', JSON, {}, ServiceNotFound,
     "A service with id x was not found"),
    (404, html("404 Not Found"), HTML, {}, ProtocolError, "<title>404 Not Found</title>"),
    (405, html("405 Method Not Allowed"), HTML, {"Allow": "PATCH"}, BadRequest,
     "405 Method Not Allowed"),
    (413, html("413 Request Entity Too Large"), HTML, {}, BadRequest,
     "413 Request Entity Too Large"),
    (500, html("500 Internal Server Error"), HTML, {}, ServerError,
     "500 Internal Server Error"),
    (502, html("502 Bad Gateway"), HTML, {}, ServerError, "502 Bad Gateway"),
    (503, "", None, {}, ServerError, "(empty body)"),
    (504, html("504 Gateway Time-out"), HTML, {}, ServerError, "504 Gateway Time-out"),
    (302, '{"data": {"target": "elsewhere"}}', JSON,
     {"Location": "http://alice:s3cr3t@elsewhere.example/"}, ProtocolError,
     "redirect to http://alice:***@elsewhere.example/"),
], ids=["400-json-list", "400-json-map", "404-json", "404-html", "405", "413", "500", "502",
        "503", "504", "302"])
def test_each_error_status_becomes_its_exception_naming_the_exchange(
        proxy, client, service, status, body, content_type, headers, error_class, excerpt):
    proxy.add_rule(Respond(status, body, headers=headers, content_type=content_type),
                   method="GET", path=SERVICE_PATH)
    with pytest.raises(error_class) as caught:
        client.get_service(service.id)
    assert type(caught.value) is error_class
    assert_names_the_exchange(caught.value, "GET", "%s/services/%s" % (proxy.url, service.id),
                              status, excerpt)
    assert "s3cr3t" not in str(caught.value)
    if body:
        assert caught.value.body == " ".join(body.split())[:200] + (
            "..." if len(" ".join(body.split())) > 200 else "")
