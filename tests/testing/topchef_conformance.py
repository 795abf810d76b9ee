# -*- coding: utf-8 -*-
"""Constants, assertions and small HTTP helpers for the local server's conformance suite.

Everything here follows the TopChef HTTP API reference, docs/server-api.rst; the
section numbers (§2.2) in comments are its. The module must import on Python 2.7.
"""
import calendar
import datetime
import json
import re
import socket
import subprocess
import sys
import tempfile
import threading
import uuid

import requests
import six
from six.moves import queue

from support import (  # noqa: F401
    CLOCK_START, GENERATIONS, REPO_ROOT, subprocess_environment, wait_until)

# Seconds that any single HTTP request of the suite may take before it fails.
REQUEST_TIMEOUT = 10.0
# Seconds that a subprocess server may take to print its URL or to exit.
PROCESS_TIMEOUT = 30.0

# The ManualClock start used by the clocked fixtures, and its UTC rendering.
START = CLOCK_START
START_ISO = "2017-07-14T02:40:00"

NOT_A_UUID = "not-a-uuid"
UNKNOWN_UUID = "12345678-1234-4234-9234-123456789abc"

DEFAULT_REGISTRATION_SCHEMA = {
    "type": "object",
    "properties": {"value": {"type": "integer", "maximum": 10}},
    "required": ["value"],
}
DEFAULT_RESULT_SCHEMA = {
    "type": "object",
    "properties": {"sum": {"type": "integer"}},
    "required": ["sum"],
}

STATUSES_2016 = ("REGISTERED", "WORKING", "COMPLETED")
STATUSES_2017 = ("REGISTERED", "WORKING", "COMPLETED", "ERROR")

# Generation 2016, docs/server-api.rst §2.2: the JSON gate's answer.
NOT_JSON_2016 = {"errors": "The request body is not JSON"}

# Generation 2017, docs/server-api.rst §3.2: error titles and verbatim detail texts (typos
# included).
REQUEST_NOT_JSON = "Request Not JSON"
REQUEST_NOT_JSON_DETAIL = (
    "Could not undertand input. Either it is not JSON, or the type was not "
    "specified using the Content-Type header")
DESERIALIZATION_ERROR = "Deserialization Error From Client Data"
SCHEMA_VALIDATION_ERROR = "JSONSchema Validation Error"
NOT_UUID_ERROR = "Not UUID Error"
SERVICE_NOT_FOUND = "Service Not Found"
JOB_NOT_FOUND = "Job Not Found"

MISSING = "Missing data for required field."
NOT_A_STRING = "Not a valid string."
NOT_A_MAPPING = "Not a valid mapping type."
NOT_A_BOOLEAN = "Not a valid boolean."
NOT_NULL = "Field may not be null."
NOT_A_PERIOD = "Not a valid period of time."
INVALID_INPUT_TYPE = "Invalid input type."

# JSON bodies that the 2016 gate rejects although they are valid JSON
# (docs/server-api.rst §2.2, quirk falsy-json-rejected).
FALSY_JSON = ["{}", "[]", "null", "0", '""', "false"]
FALSY_JSON_IDS = ["empty-object", "empty-array", "null", "zero", "empty-string", "false"]

_CANONICAL_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{6}))?(\+00:00)?$")


# --- assertions on responses -------------------------------------------------

def _describe(response):
    return "%s %s -> %s %r %r" % (
        response.request.method, response.request.url, response.status_code,
        response.headers.get("Content-Type"), response.content[:500])


def content_type(response):
    return (response.headers.get("Content-Type") or "").lower()


def json_body(response, status):
    """Assert the status and a JSON content type; return the decoded body."""
    assert response.status_code == status, _describe(response)
    assert content_type(response).startswith("application/json"), _describe(response)
    return response.json()


def html_body(response, status):
    """Assert the status and an HTML page (a framework-level answer); return the text."""
    assert response.status_code == status, _describe(response)
    assert content_type(response).startswith("text/html"), _describe(response)
    text = response.text
    assert "<" in text, _describe(response)
    return text


def empty_body(response, status=204):
    """Assert the status and an empty body; return the content type."""
    assert response.status_code == status, _describe(response)
    assert response.content == b"", _describe(response)
    return content_type(response)


def assert_empty_html_204(response):
    """The empty 204 of docs/server-api.rst §2.5 and §3.4: no body, text/html content type."""
    assert empty_body(response, 204).startswith("text/html"), _describe(response)


def errors_2017(response, status, title):
    """Assert a 2017 error list (§3.2) whose entries all have this status and title.

    Returns the list of ``detail`` texts.
    """
    body = json_body(response, status)
    assert set(body) == {"errors"}, body
    errors = body["errors"]
    assert isinstance(errors, list) and errors, body
    for error in errors:
        assert set(error) == {"status_code", "title", "detail"}, body
        assert error["status_code"] == status, body
        assert error["title"] == title, body
    return [error["detail"] for error in errors]


def deserialization_detail(field, *messages):
    """The verbatim 2017 marshmallow error detail of §3.2 (Python 3 list repr)."""
    rendered = "[" + ", ".join("'%s'" % message for message in messages) + "]"
    return "Valdation of key '%s' threw error '%s'." % (field, rendered)


def schema_detail(message):
    """The verbatim 2017 JSON-Schema error detail of §3.2 for an error without context."""
    return "Validation of schema [] threw error %s" % message


def assert_single_error_2017(response, status, title, detail):
    details = errors_2017(response, status, title)
    assert details == [detail]


def assert_not_a_uuid_2017(response):
    """The 2017 404 for an id that is not a UUID (here always ``NOT_A_UUID``)."""
    assert_single_error_2017(response, 404, NOT_UUID_ERROR,
                             "The string %s could not be converted to a UUID" % NOT_A_UUID)


def assert_uuid(value, version):
    assert isinstance(value, six.string_types), value
    assert _CANONICAL_UUID.match(value), value
    assert uuid.UUID(value).version == version, value


def uuid_version(generation):
    """2016 mints uuid1, 2017 mints uuid4 (§1)."""
    return 1 if generation == "2016" else 4


def iso_to_epoch(text, with_offset):
    """Parse an ISO-8601 UTC timestamp as the servers write them into POSIX seconds."""
    match = _TIMESTAMP.match(text)
    assert match, text
    assert bool(match.group(8)) == with_offset, text
    fields = [int(part) for part in match.groups()[:6]]
    seconds = calendar.timegm(datetime.datetime(*fields).timetuple())
    if match.group(7):
        assert match.group(7) != "000000", "a zero fraction must be omitted: %s" % text
        seconds += int(match.group(7)) / 1e6
    return seconds


def assert_timestamp(value):
    """ISO-8601, explicit +00:00 offset, microseconds unless zero (§1)."""
    assert isinstance(value, six.string_types), value
    return iso_to_epoch(value, with_offset=True)


def allowed_methods(response):
    allow = response.headers.get("Allow")
    assert allow is not None, _describe(response)
    return set(method.strip().upper() for method in allow.split(",") if method.strip())


def uuid_forms(canonical):
    """The alternative spellings of §1 that uuid.UUID() accepts."""
    return {
        "upper-case": canonical.upper(),
        "no-hyphens": canonical.replace("-", ""),
        "braces": "{" + canonical + "}",
        "urn-prefix": "urn:uuid:" + canonical,
    }


UUID_FORM_NAMES = ["upper-case", "no-hyphens", "braces", "urn-prefix"]


# --- HTTP helper ----------------------------------------------------------------

class TopChef(object):
    """A plain-requests view of one LocalServer, with shortcuts for common set-up."""

    def __init__(self, server):
        self.server = server
        self.generation = server.generation
        self.clock = server.clock
        self.session = requests.Session()

    def close(self):
        self.session.close()

    def url(self, path):
        return self.server.url + path

    def request(self, method, path, **kwargs):
        kwargs.setdefault("timeout", REQUEST_TIMEOUT)
        kwargs.setdefault("allow_redirects", False)
        return self.session.request(method, self.url(path), **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.request("PATCH", path, **kwargs)

    def send_json(self, method, path, value, content_type="application/json", headers=None):
        """Send ``value`` encoded as JSON with the given content type."""
        return self.send_raw(method, path, json.dumps(value), content_type, headers)

    def send_raw(self, method, path, data, content_type=None, headers=None):
        """Send ``data`` verbatim; no Content-Type header when ``content_type`` is None."""
        all_headers = dict(headers or {})
        if content_type is not None:
            all_headers["Content-Type"] = content_type
        if isinstance(data, six.text_type):
            data = data.encode("utf-8")
        return self.request(method, path, data=data, headers=all_headers)

    def registration_body(self, name="Adder", description="Adds one",
                          registration_schema=None, result_schema=None):
        return {
            "name": name,
            "description": description,
            "job_registration_schema": (
                DEFAULT_REGISTRATION_SCHEMA if registration_schema is None
                else registration_schema),
            "job_result_schema": (
                DEFAULT_RESULT_SCHEMA if result_schema is None else result_schema),
        }

    def register_service(self, name="Adder", description="Adds one",
                         registration_schema=None, result_schema=None):
        """Register a service through POST /services and return its ID."""
        body = self.registration_body(name, description, registration_schema, result_schema)
        response = self.send_json("POST", "/services", body)
        answer = json_body(response, 201)
        location = response.headers["Location"]
        service_id = location.rsplit("/", 1)[-1]
        assert location == self.url("/services/" + service_id)
        if self.generation == "2016":
            assert answer["data"]["service_details"]["id"] == service_id
        return service_id

    def submit_job(self, service_id, parameters=None):
        """Submit a job through POST /services/<id>/jobs and return its ID."""
        if parameters is None:
            parameters = {"value": 1}
        response = self.send_json(
            "POST", "/services/%s/jobs" % service_id, {"parameters": parameters})
        answer = json_body(response, 201)
        if self.generation == "2016":
            job_id = answer["data"]["job_details"]["id"]
        else:
            job_id = answer["data"]["id"]
        assert response.headers["Location"] == self.url("/jobs/" + job_id)
        return job_id

    def service(self, service_id):
        """The ``data`` of GET /services/<id>."""
        return json_body(self.get("/services/" + service_id), 200)["data"]

    def job(self, job_id):
        """The ``data`` of GET /jobs/<id>."""
        return json_body(self.get("/jobs/" + job_id), 200)["data"]

    def result_key(self):
        return "result" if self.generation == "2016" else "results"

    def update_job(self, job_id, status=None, result=None):
        """Change a job the way a worker does (2016 GET+PUT, 2017 PATCH); return the job."""
        if self.generation == "2016":
            current = self.job(job_id)
            body = {
                "status": current["status"] if status is None else status,
                "result": current["result"] if result is None else result,
                "parameters": current["parameters"],
            }
            response = self.send_json("PUT", "/jobs/" + job_id, body)
            return json_body(response, 200)["data"]["job_schema"]
        body = {}
        if status is not None:
            body["status"] = status
        if result is not None:
            body["results"] = result
        return json_body(self.send_json("PATCH", "/jobs/" + job_id, body), 200)

    def heartbeat(self, service_id):
        """The recommended heartbeat: PATCH with no body and no Content-Type."""
        return json_body(self.patch("/services/" + service_id), 200)

    def timed_out(self, service_id):
        return self.service(service_id)["has_timed_out"]


# --- raw sockets ------------------------------------------------------------------

def connect(url, timeout=REQUEST_TIMEOUT):
    """A socket connected to the server at ``url``, blocking up to ``timeout`` s a call."""
    host, port = url.split("//", 1)[1].rsplit(":", 1)
    sock = socket.create_connection((host, int(port)), timeout)
    sock.settimeout(timeout)
    return sock


def receive_until_closed(sock):
    """Everything the peer sends until it closes the connection."""
    chunks = []
    while True:
        data = sock.recv(65536)
        if not data:
            return b"".join(chunks)
        chunks.append(data)


# --- subprocess servers ------------------------------------------------------------

class ServerProcess(object):
    """``python -m topchef_client.testing ARGS`` with its stdout read line by line."""

    def __init__(self, args):
        # The server must flush its URL by itself: no PYTHONUNBUFFERED.
        env = subprocess_environment(PYTHONUNBUFFERED=None)
        self._stderr = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "topchef_client.testing"] + list(args),
            stdout=subprocess.PIPE, stderr=self._stderr, cwd=REPO_ROOT, env=env)
        self._lines = queue.Queue()
        self._reader = threading.Thread(target=self._read, name="stdout-reader")
        self._reader.daemon = True
        self._reader.start()
        self.url = None

    def _read(self):
        for line in iter(self.process.stdout.readline, b""):
            self._lines.put(line.decode("utf-8", "replace").rstrip("\r\n"))
        self._lines.put(None)

    def stderr_text(self):
        self._stderr.seek(0)
        return self._stderr.read().decode("utf-8", "replace")

    def first_line(self, timeout=PROCESS_TIMEOUT):
        try:
            line = self._lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(
                "no line on stdout within %s s; stderr: %s" % (timeout, self.stderr_text()))
        if line is None:
            raise AssertionError(
                "stdout closed before the URL (exit %s); stderr: %s"
                % (self.process.poll(), self.stderr_text()))
        self.url = line
        return line

    def send_signal(self, signum):
        self.process.send_signal(signum)

    def wait(self, timeout=PROCESS_TIMEOUT):
        """The exit code; fails the test if the process still runs after ``timeout`` s."""
        wait_until(lambda: self.process.poll() is not None, timeout,
                   message="the server process still runs after %s s" % timeout)
        return self.process.returncode

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def close(self):
        self.kill()
        # The reader sees EOF once the process is gone; closing the pipe under a
        # thread that is still reading it raises on Python 2.
        self._reader.join(PROCESS_TIMEOUT)
        if not self._reader.is_alive():
            self.process.stdout.close()
        self._stderr.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()
