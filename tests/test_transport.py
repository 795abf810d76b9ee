"""The transport: HTTP auth handlers, single attempts and strict JSON, over real HTTP."""
import binascii
import hashlib
import os
import threading

import pytest
import requests.auth
from six.moves import BaseHTTPServer, http_client, socketserver

from topchef_client import Connection, TopChef
from topchef_client.exceptions import NetworkError
from topchef_client.transport import Transport, split_credentials

from jobs import ADD_ONE_REGISTRATION_SCHEMA, ADD_ONE_RESULT_SCHEMA, AddOne
from support import jobs_by_status, no_delay_setup, stop_http_server

USER, PASSWORD, REALM = "alice", "s3cr3t", "topchef"


def md5(text):
    return hashlib.md5(text.encode("utf-8")).hexdigest()


class DigestGate(object):
    """An HTTP server that demands Digest auth (RFC 2617, qop=auth) and forwards to upstream.

    What a reverse proxy in front of a TopChef server does; it counts the
    challenges it sent and the requests it let through.
    """

    def __init__(self, upstream_url):
        host_port = upstream_url.split("//", 1)[1]
        self.upstream_host, port = host_port.rsplit(":", 1)
        self.upstream_port = int(port)
        self.nonce = binascii.hexlify(os.urandom(16)).decode("ascii")
        self.challenges = 0
        self.passed = 0
        self._lock = threading.Lock()
        gate = self

        class Handler(BaseHTTPServer.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            setup = no_delay_setup

            def __getattr__(self, name):
                if name.startswith("do_"):
                    return self._handle
                raise AttributeError(name)

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                if not gate.authorised(self.command, self.headers.get("Authorization")):
                    with gate._lock:
                        gate.challenges += 1
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Digest realm="%s", qop="auth", '
                                     'nonce="%s", algorithm=MD5' % (REALM, gate.nonce))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with gate._lock:
                    gate.passed += 1
                upstream = http_client.HTTPConnection(gate.upstream_host, gate.upstream_port,
                                                      timeout=10)
                headers = dict((key, value) for key, value in self.headers.items()
                               if key.lower() in ("content-type", "content-length"))
                upstream.request(self.command, self.path, body, headers)
                answer = upstream.getresponse()
                data = answer.read()
                upstream.close()
                self.send_response(answer.status)
                for key, value in answer.getheaders():
                    if key.lower() not in ("content-length", "connection", "server", "date"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        class Server(socketserver.ThreadingMixIn, BaseHTTPServer.HTTPServer):
            daemon_threads = True
            request_queue_size = 128  # the default 5 drops connections for 1 s

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever)
        self.thread.daemon = True
        self.thread.start()

    def authorised(self, method, header):
        if not header or not header.startswith("Digest "):
            return False
        fields = {}
        for part in header[len("Digest "):].split(","):
            key, _, value = part.strip().partition("=")
            fields[key] = value.strip('"')
        if fields.get("username") != USER or fields.get("nonce") != self.nonce:
            return False
        expected = md5(":".join([
            md5("%s:%s:%s" % (USER, REALM, PASSWORD)), self.nonce, fields.get("nc", ""),
            fields.get("cnonce", ""), fields.get("qop", ""),
            md5("%s:%s" % (method, fields.get("uri", "")))]))
        return fields.get("response") == expected

    def stop(self):
        stop_http_server(self.httpd)


@pytest.fixture
def digest_gate(server):
    gate = DigestGate(server.url)
    yield gate
    gate.stop()


def test_a_submitter_with_digest_auth_gets_through_a_digest_challenge(digest_gate):
    with TopChef(digest_gate.url, auth=requests.auth.HTTPDigestAuth(USER, PASSWORD)) as api:
        service = api.register_service("AddOne", "behind Digest auth",
                                       ADD_ONE_REGISTRATION_SCHEMA, ADD_ONE_RESULT_SCHEMA)
        assert api.service(service.id).name == "AddOne"
    assert digest_gate.challenges >= 1
    assert digest_gate.passed >= 3  # GET /, POST /services, GET /services/<id>


def test_a_wrong_digest_password_is_refused_as_a_bad_request(digest_gate):
    from topchef_client.exceptions import BadRequest
    with TopChef(digest_gate.url, auth=requests.auth.HTTPDigestAuth(USER, "wrong")) as api:
        with pytest.raises(BadRequest) as caught:
            api.services()
    assert "401" in str(caught.value)
    assert "wrong" not in str(caught.value)


def test_a_worker_with_digest_auth_runs_its_jobs_through_a_digest_challenge(
        digest_gate, server, topchef):
    auth = requests.auth.HTTPDigestAuth(USER, PASSWORD)
    worker = AddOne.register_service(digest_gate.url, "AddOne", "behind Digest auth",
                                     ADD_ONE_REGISTRATION_SCHEMA, ADD_ONE_RESULT_SCHEMA,
                                     auth=auth, poll_interval=0.01, max_poll_interval=0.05)
    try:
        for value in (1, 2, 3):
            topchef.submit(worker.id, {"value": value})
        stats = worker.burst()
    finally:
        worker.connection.close()
    assert stats.jobs_completed == 3
    assert len(jobs_by_status(server, worker.id)["COMPLETED"]) == 3
    assert digest_gate.challenges >= 1


def test_a_single_attempt_is_not_retried_however_many_retries_the_transport_has():
    transport = Transport("http://127.0.0.1:1", retries=5, timeout=(0.5, 0.5))
    with pytest.raises(NetworkError):
        transport.send("GET", "/", retry=False)
    assert transport.request_count == 1


@pytest.mark.parametrize("document, culprit", [
    ({"value": float("nan")}, "nan"), ({"value": float("inf")}, "inf"),
    ({"value": set([1])}, "set")])
def test_a_body_json_cannot_carry_is_refused_before_anything_is_sent(
        server, document, culprit):
    with Connection(server.url) as connection:
        before = server.request_count
        with pytest.raises(ValueError) as caught:
            connection.request("POST", "/services", document)
    assert culprit in str(caught.value).lower()
    assert server.request_count == before


def test_split_credentials_takes_the_password_out_of_the_address():
    assert split_credentials("http://alice:p%40ss@host:5000/") == (
        "http://host:5000", ("alice", "p@ss"))


@pytest.mark.parametrize("address", [None, 5000, b"http://host" if str is not bytes else 1])
def test_an_address_that_is_not_a_string_is_a_type_error_naming_the_option(address):
    with pytest.raises(TypeError) as caught:
        Transport(address)
    assert "address" in str(caught.value)


@pytest.mark.parametrize("address", ["localhost:5000", "ftp://host", "http://", "http://h:x",
                                     "http://alice:s3cr3t@h:99999"])
def test_an_address_that_is_no_http_url_is_a_value_error_without_its_password(address):
    with pytest.raises(ValueError) as caught:
        Transport(address)
    assert "address" in str(caught.value)
    assert "s3cr3t" not in str(caught.value)

