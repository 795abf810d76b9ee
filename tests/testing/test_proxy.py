"""FaultProxy in front of a LocalServer: it forwards faithfully and each fault does what it says."""
import errno
import json
import socket
import threading
import time

import pytest
import requests

from topchef_client.testing import LocalServer
from topchef_client.testing.proxy import (
    Delay, FaultProxy, Hang, RequestRecord, Reset, Respond, Truncate)

from support import wait_until
from topchef_conformance import connect, receive_until_closed

# Seconds any single request of this module may take when no fault delays it.
TIMEOUT = 5.0

SERVICE = {
    "name": "Adder",
    "description": "Adds one",
    "job_registration_schema": {
        "type": "object",
        "properties": {"value": {"type": "integer"}},
        "required": ["value"],
    },
    "job_result_schema": {"type": "object"},
}
JOB = {"parameters": {"value": 1}}


def post_json(session, url, document, **kwargs):
    kwargs.setdefault("timeout", TIMEOUT)
    return session.post(url, data=json.dumps(document),
                        headers={"Content-Type": "application/json"}, **kwargs)


def register_service(base_url):
    response = post_json(requests, base_url + "/services", SERVICE)
    assert response.status_code == 201, response.content
    return response.headers["Location"].rsplit("/", 1)[-1]


def free_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def raw_request(url, path="/services"):
    return ("GET %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (path, url.split("//", 1)[1])).encode("ascii")


def in_thread(function):
    """Run ``function`` in a daemon thread; the returned list gets its result or exception."""
    outcome = []

    def run():
        try:
            outcome.append(function())
        except Exception as error:
            outcome.append(error)

    thread = threading.Thread(target=run)
    thread.daemon = True
    thread.start()
    return thread, outcome


@pytest.fixture
def server(servers):
    """The session's 2017 server, reset; the ``proxy`` fixture stands in front of it."""
    server = servers("2017")
    server.reset()
    return server


@pytest.fixture
def session():
    session = requests.Session()
    yield session
    session.close()


# --- forwarding ----------------------------------------------------------------------

def test_requests_are_forwarded_over_one_kept_alive_connection_on_each_side(
        server, proxy, session):
    for _ in range(100):
        response = session.get(proxy.url + "/services", timeout=TIMEOUT)
        assert response.status_code == 200
        assert response.json()["data"] == []
    assert server.request_count == 100
    assert proxy.request_count == 100
    assert proxy.connection_count == 1
    assert proxy.upstream_connection_count == 1


def test_bodies_head_and_204_answers_are_relayed_without_breaking_the_connection(
        server, proxy, session):
    response = post_json(session, proxy.url + "/services", SERVICE)
    assert response.status_code == 201
    # The server builds Location from the Host header, which names the proxy.
    assert response.headers["Location"].startswith(proxy.url + "/services/")
    service_id = response.headers["Location"].rsplit("/", 1)[-1]
    head = session.head(proxy.url + "/", timeout=TIMEOUT)
    assert head.status_code == 405 and head.content == b""
    empty = session.get(proxy.url + "/services/%s/queue" % service_id, timeout=TIMEOUT)
    assert empty.status_code == 204 and empty.content == b""
    job = post_json(session, proxy.url + "/services/%s/jobs" % service_id, JOB)
    assert job.status_code == 201
    assert [j["parameters"] for j in server.jobs(service_id)] == [{"value": 1}]
    assert proxy.connection_count == 1


def test_a_chunked_request_body_is_forwarded_whole(server, proxy, session):
    text = json.dumps(SERVICE).encode("utf-8")
    pieces = iter([text[:10], text[10:50], text[50:]])
    response = session.post(proxy.url + "/services", data=pieces, timeout=TIMEOUT,
                            headers={"Content-Type": "application/json"})
    assert response.status_code == 201
    assert response.headers.get("Transfer-Encoding") is None


def test_connection_close_from_the_client_ends_the_connection(server, proxy, session):
    for _ in range(2):
        response = session.get(proxy.url + "/", headers={"Connection": "close"},
                               timeout=TIMEOUT)
        assert response.status_code == 200
        assert response.headers["Connection"].lower() == "close"
    assert proxy.connection_count == 2
    assert proxy.upstream_connection_count == 2


def test_an_unreachable_upstream_gets_a_502_html_page(session):
    with FaultProxy(upstream="http://127.0.0.1:%d" % free_port()) as proxy:
        for _ in range(2):
            response = session.get(proxy.url + "/services", timeout=TIMEOUT)
            assert response.status_code == 502
            assert response.headers["Content-Type"].startswith("text/html")
            assert "<h1>502 Bad Gateway</h1>" in response.text
        assert proxy.connection_count == 1  # the 502 keeps the connection alive


def test_a_restarted_upstream_is_reconnected_on_the_same_client_connection(session):
    with LocalServer(generation="2017") as server, FaultProxy(server.url) as proxy:
        assert session.get(proxy.url + "/", timeout=TIMEOUT).status_code == 200
        server.stop()
        server.start()
        assert session.get(proxy.url + "/", timeout=TIMEOUT).status_code == 200
        assert proxy.connection_count == 1
        assert proxy.upstream_connection_count == 2


# --- going down --------------------------------------------------------------------------

def test_go_down_refuses_connections_and_resets_open_ones_until_come_up(
        server, proxy, session):
    url = proxy.url
    idle = connect(url)
    idle.sendall(raw_request(url, "/"))
    assert idle.recv(65536).startswith(b"HTTP/1.1 200")
    proxy.go_down()
    with pytest.raises(socket.error) as reset:
        idle.recv(65536)
    assert reset.value.errno == errno.ECONNRESET
    idle.close()
    with pytest.raises(socket.error) as refused:
        connect(url)
    assert refused.value.errno == errno.ECONNREFUSED
    with pytest.raises(requests.ConnectionError):
        session.get(url + "/", timeout=TIMEOUT)
    assert not proxy.is_up
    proxy.come_up()
    assert proxy.is_up and proxy.url == url
    assert session.get(url + "/", timeout=TIMEOUT).status_code == 200


def test_stop_closes_every_connection_promptly(server, proxy, session):
    idle = connect(proxy.url)
    proxy.add_rule(Hang(), path="^/services$")
    proxy.add_rule(Delay(30), path="^/jobs$")
    hung, hung_outcome = in_thread(lambda: requests.get(proxy.url + "/services", timeout=TIMEOUT))
    slow, slow_outcome = in_thread(lambda: requests.get(proxy.url + "/jobs", timeout=TIMEOUT))
    wait_until(lambda: proxy.request_count == 2)
    started = time.time()
    proxy.stop()
    assert time.time() - started < 1.5
    assert idle.recv(65536) == b""
    for thread, outcome in ((hung, hung_outcome), (slow, slow_outcome)):
        thread.join(TIMEOUT)
        assert isinstance(outcome[0], requests.ConnectionError)
    assert server.request_count == 0
    assert not [t for t in threading.enumerate() if t.name.startswith("fault-proxy")]


# --- faults ---------------------------------------------------------------------------

def test_delay_exceeds_a_short_read_timeout_and_the_request_still_arrives(
        server, proxy, session):
    proxy.add_rule(Delay(0.4))
    started = time.time()
    with pytest.raises(requests.exceptions.ReadTimeout):
        session.get(proxy.url + "/services", timeout=0.1)
    assert time.time() - started < 0.4
    assert server.request_count == 0
    wait_until(lambda: server.request_count == 1)


def test_delay_after_forwarding_lets_the_request_land_and_holds_back_the_answer(
        server, proxy, session):
    proxy.add_rule(Delay(0.4, after_forwarding=True))
    started = time.time()
    with pytest.raises(requests.exceptions.ReadTimeout):
        session.get(proxy.url + "/services", timeout=0.1)
    assert time.time() - started < 0.4
    assert server.request_count == 1


@pytest.mark.parametrize("after_forwarding", [False, True])
def test_removing_the_rule_of_a_delay_lets_its_request_go_at_once(
        server, proxy, session, after_forwarding):
    rule = proxy.add_rule(Delay(30, after_forwarding=after_forwarding))
    thread, outcome = in_thread(lambda: session.get(proxy.url + "/services", timeout=TIMEOUT))
    wait_until(lambda: rule.hits == 1 and server.request_count == int(after_forwarding))
    assert thread.is_alive() and not outcome
    rule.remove()
    thread.join(TIMEOUT)
    assert outcome[0].status_code == 200
    assert server.request_count == 1


def test_hang_answers_nothing_until_its_rule_is_removed(server, proxy):
    rule = proxy.add_rule(Hang())
    thread, outcome = in_thread(lambda: requests.get(proxy.url + "/", timeout=TIMEOUT))
    wait_until(lambda: rule.hits == 1)
    thread.join(0.1)  # a hundred times what an answer takes
    assert thread.is_alive() and not outcome
    rule.remove()
    thread.join(TIMEOUT)
    assert isinstance(outcome[0], requests.ConnectionError)
    assert server.request_count == 0


def test_reset_before_forwarding_never_reaches_the_server(server, proxy, session):
    service_id = register_service(server.url)
    rule = proxy.add_rule(Reset(), method="POST")
    with pytest.raises(requests.ConnectionError):
        post_json(session, proxy.url + "/services/%s/jobs" % service_id, JOB)
    assert rule.hits == 1
    assert server.jobs(service_id) == []
    assert server.request_count == 1  # the registration only


def test_reset_after_forwarding_lands_the_write_but_loses_the_answer(server, proxy, session):
    service_id = register_service(server.url)
    proxy.add_rule(Reset(after_forwarding=True), method="POST")
    with pytest.raises(requests.ConnectionError):
        post_json(session, proxy.url + "/services/%s/jobs" % service_id, JOB)
    assert [job["status"] for job in server.jobs(service_id)] == ["REGISTERED"]


@pytest.mark.parametrize("after_forwarding", [False, True])
def test_reset_is_a_tcp_reset(server, proxy, after_forwarding):
    proxy.add_rule(Reset(after_forwarding=after_forwarding))
    sock = connect(proxy.url)
    sock.sendall(raw_request(proxy.url))
    with pytest.raises(socket.error) as raised:
        sock.recv(65536)
    sock.close()
    assert raised.value.errno == errno.ECONNRESET


def test_truncate_sends_only_the_first_bytes_of_the_raw_response(server, proxy, session):
    register_service(server.url)

    def fetch():
        sock = connect(proxy.url)
        sock.sendall(raw_request(proxy.url).replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
        try:
            return receive_until_closed(sock)
        finally:
            sock.close()

    whole = fetch()
    keep = whole.index(b"\r\n\r\n") + len(b"\r\n\r\n") + 10  # the head and 10 body bytes
    proxy.add_rule(Truncate(keep))
    assert fetch() == whole[:keep]
    # A client reading it either fails or gets a body that is not JSON.
    try:
        response = session.get(proxy.url + "/services", timeout=TIMEOUT)
        with pytest.raises(ValueError):
            response.json()
    except requests.RequestException:
        pass
    assert server.request_count == 4


def test_truncate_to_nothing_is_a_connection_error(server, proxy, session):
    proxy.add_rule(Truncate(0))
    with pytest.raises(requests.ConnectionError):
        session.get(proxy.url + "/", timeout=TIMEOUT)
    assert server.request_count == 1


@pytest.mark.parametrize("status, body, content_type", [
    (503, b"Service Unavailable", "text/plain"),
    (502, u"<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
    (200, b"", "application/json"),
    (200, b'{"data": [', "application/json"),
    (204, b"", None),
], ids=["503-storm", "html-502", "empty-200", "garbage-json", "204"])
def test_respond_answers_without_forwarding(server, proxy, session, status, body, content_type):
    proxy.add_rule(Respond(status, body, content_type=content_type))
    for _ in range(3):
        response = session.get(proxy.url + "/services", timeout=TIMEOUT)
        assert response.status_code == status
        expected = body.encode("utf-8") if not isinstance(body, bytes) else body
        assert response.content == expected
        assert response.headers.get("Content-Type") == content_type
    assert server.request_count == 0
    assert proxy.connection_count == 1


def test_respond_sends_extra_headers_and_no_body_to_head(server, proxy, session):
    proxy.add_rule(Respond(503, b"busy", headers={"Retry-After": "1"}))
    response = session.head(proxy.url + "/", timeout=TIMEOUT)
    assert response.status_code == 503 and response.content == b""
    assert response.headers["Retry-After"] == "1"
    assert response.headers["Content-Length"] == "4"
    assert session.get(proxy.url + "/", timeout=TIMEOUT).content == b"busy"


# --- rules ------------------------------------------------------------------------------

def test_a_rule_with_times_expires_after_that_many_requests(server, proxy, session):
    rule = proxy.add_rule(Respond(503), times=2)
    statuses = [session.get(proxy.url + "/", timeout=TIMEOUT).status_code for _ in range(4)]
    assert statuses == [503, 503, 200, 200]
    assert rule.hits == 2 and not rule.active


def test_a_rule_with_seconds_expires_after_that_long(server, proxy, session):
    rule = proxy.add_rule(Respond(503), seconds=0.3)
    assert session.get(proxy.url + "/", timeout=TIMEOUT).status_code == 503
    wait_until(lambda: session.get(proxy.url + "/", timeout=TIMEOUT).status_code == 200)
    assert rule.expired and rule.hits >= 1


def test_method_and_path_select_only_matching_requests(server, proxy, session):
    service_id = register_service(server.url)
    rule = proxy.add_rule(Respond(503), method="patch", path=r"^/services/[^/]+$")
    assert session.get(proxy.url + "/services/" + service_id, timeout=TIMEOUT).status_code == 200
    assert session.patch(proxy.url + "/services/" + service_id + "/jobs",
                         timeout=TIMEOUT).status_code == 405
    assert session.patch(proxy.url + "/services/" + service_id, timeout=TIMEOUT).status_code == 503
    assert rule.hits == 1
    assert proxy.requests == [
        ("GET", "/services/" + service_id, None),
        ("PATCH", "/services/%s/jobs" % service_id, None),
        RequestRecord("PATCH", "/services/" + service_id, "Respond"),
    ]


def test_the_first_active_matching_rule_applies(server, proxy, session):
    first = proxy.add_rule(Respond(502), path="/services", times=1)
    second = proxy.add_rule(Respond(503))
    statuses = [session.get(proxy.url + "/services", timeout=TIMEOUT).status_code
                for _ in range(2)]
    assert statuses == [502, 503]
    assert (first.hits, second.hits) == (1, 1)
    proxy.clear_rules()
    assert proxy.rules == []
    assert session.get(proxy.url + "/services", timeout=TIMEOUT).status_code == 200


def test_rules_can_change_while_requests_flow(server, proxy):
    def client():
        with requests.Session() as session:
            return [session.get(proxy.url + "/", timeout=TIMEOUT).status_code
                    for _ in range(25)]

    clients = [in_thread(client) for _ in range(4)]
    while any(thread.is_alive() for thread, _ in clients):
        proxy.add_rule(Respond(503)).remove()
        proxy.add_rule(Respond(503), times=1)
        time.sleep(0)  # let the clients have the interpreter now and then
    for thread, outcome in clients:
        thread.join(TIMEOUT)
        assert set(outcome[0]) <= {200, 503}
    assert proxy.request_count == 100
    assert server.request_count + sum(
        1 for record in proxy.requests if record.fault == "Respond") == 100
