"""Property-based tests: whatever a server answers, the library keeps its contract.

A tiny HTTP/1.1 server on loopback answers each request with a status,
headers and a body that hypothesis draws and puts in a shared slot before
each call: JSON of random shapes, envelopes with fields of the wrong
types, HTML, empty bodies, bodies cut short, bytes that are not UTF-8,
every status from 100 to 599, odd or missing headers. Every public
``Connection`` call must then return its model, or raise an exception of
the documented tree (``TopChefError``); and a worker must keep both of its
threads alive.
"""
import json
import threading

import pytest
import six
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from six.moves import BaseHTTPServer, socketserver

from topchef_client import Client, Connection, Job, Service, ServiceNotFound, TopChefError
from topchef_client.compat import monotonic
from topchef_client.schemas import Schema

from support import stop_http_server, threads_alive, wait_until

GENERATIONS = ("2016", "2017")
SERVICE_ID = "6b4a4c0e-7a2b-4c2f-9d0e-0a1b2c3d4e5f"
JOB_ID = "0f8e2a44-1c3b-11e7-93ae-92361f002671"
#: Every answer comes at once, so a timeout here would be a hang of the library's.
TIMEOUT = (2.0, 2.0)
SETTINGS = dict(deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])

ROOT_DOCUMENTS = {
    "2016": {"data": {}, "meta": {"author": "Michal Kononenko", "version": "0.1dev",
                                  "email": "michalkononenko@gmail.com",
                                  "source_repository": "https://example.org/TopChef"}},
    "2017": {"data": {"maintainer_name": "Michal Kononenko", "version": "0.2",
                      "maintainer_email": "michalkononenko@gmail.com",
                      "source_code_repository": "https://example.org/TopChef"},
             "meta": {}, "links": {"self": "http://localhost/"}},
}


# The server

class Answer(object):
    """One HTTP answer: a status, ``(name, value)`` headers and body bytes."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def render(self):
        # The server closes the connection after each answer: say so, or the
        # client's next request may find it closed, by chance.
        lines = ["HTTP/1.1 %d Whatever" % self.status, "Connection: close"]
        lines.extend("%s: %s" % header for header in self.headers)
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body

    def __repr__(self):
        return "Answer(%d, %r, %r)" % (self.status, self.headers, self.body)


def json_answer(document, status=200):
    body = json_bytes(document)
    return Answer(status, [("Content-Type", "application/json"),
                           ("Content-Length", str(len(body)))], body)


class _Handler(BaseHTTPServer.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def __getattr__(self, name):
        if name.startswith("do_"):  # every method gets an answer
            return self._answer
        raise AttributeError(name)

    def _answer(self):
        length = self.headers.get("Content-Length")
        if length:
            self.rfile.read(int(length))
        answer = self.server.owner.next_answer(self.command, self.path)
        # One answer per connection: a garbage answer must not spoil the next.
        self.close_connection = True
        self.wfile.write(answer.render())

    def log_message(self, *args):
        pass


class _HTTPServer(socketserver.ThreadingMixIn, BaseHTTPServer.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    request_queue_size = 128  # the default 5 drops connections of busy workers for 1 s


class ScriptedServer(object):
    """Answers each request with what the slot says: a list in turn, or a function."""

    def __init__(self):
        self._lock = threading.Lock()
        self._slot = []
        self.request_count = 0
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self.url = "http://127.0.0.1:%d" % self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()

    def answer_in_turn(self, answers):
        """Answer with ``answers`` one after the other, then with the last for ever."""
        with self._lock:
            self._slot = list(answers)

    def answer_by_route(self, route):
        """Answer with ``route(method, path)``."""
        with self._lock:
            self._slot = route

    def next_answer(self, method, path):
        with self._lock:
            self.request_count += 1
            if callable(self._slot):
                return self._slot(method, path)
            return self._slot.pop(0) if len(self._slot) > 1 else self._slot[0]

    def stop(self):
        stop_http_server(self._httpd)


@pytest.fixture(scope="module")
def scripted_server():
    server = ScriptedServer()
    yield server
    server.stop()


# What a server might say

def json_bytes(document, **options):
    text = json.dumps(document, **options)
    return text.encode("utf-8") if isinstance(text, six.text_type) else text


#: Names the library looks for, so that random objects often have them.
FIELD_NAMES = ["data", "meta", "links", "errors", "id", "status", "parameters", "result",
               "results", "date_submitted", "job_details", "service_details", "job_schema",
               "job_registration_schema", "job_result_schema", "timeout", "has_timed_out",
               "is_service_available", "name", "description", "title", "detail", "message",
               "$schema", "type", "properties", "required", "author", "maintainer_name"]
keys = st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=6))
ids = st.sampled_from([SERVICE_ID, JOB_ID, SERVICE_ID.upper(), "not-a-uuid", ""])
statuses = st.sampled_from(["REGISTERED", "WORKING", "COMPLETED", "ERROR", "working", ""])
timestamps = st.one_of(
    st.sampled_from(["2017-08-15T18:29:07.902093+00:00", "2016-09-06T12:00:00", "yesterday"]),
    st.builds(lambda year, month, day, hour, minute, second, sign, offset:
              "%04d-%02d-%02dT%02d:%02d:%02d%s%02d:%02d" % (
                  year, month, day, hour, minute, second, sign, offset, offset),
              st.integers(0, 9999), st.integers(0, 99), st.integers(0, 99),
              st.integers(0, 99), st.integers(0, 99), st.integers(0, 99),
              st.sampled_from(["+", "-"]), st.integers(0, 99)))
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8),
                    ids, statuses, timestamps)
json_values = st.recursive(
    scalars, lambda children: st.one_of(st.lists(children, max_size=3),
                                        st.dictionaries(keys, children, max_size=4)),
    max_leaves=6)
schemas = st.one_of(
    st.sampled_from([{"type": "object"}, {}, {"type": "object", "required": ["value"],
                                              "properties": {"value": {"type": "integer"}}}]),
    st.dictionaries(st.sampled_from(["$schema", "type", "properties", "required", "items",
                                     "minimum", "$ref", "enum"]), json_values, max_size=3),
    json_values)
#: Plausible values of the fields of a job or a service.
FIELDS = {
    "id": ids, "status": statuses, "date_submitted": timestamps,
    "parameters": st.dictionaries(keys, json_values, max_size=3),
    "result": st.dictionaries(keys, json_values, max_size=3),
    "results": st.dictionaries(keys, json_values, max_size=3),
    "timeout": st.one_of(st.integers(), st.floats()),
    "job_registration_schema": schemas, "job_result_schema": schemas,
    "has_timed_out": st.booleans(), "is_service_available": st.booleans(),
    "name": st.text(max_size=8), "description": st.text(max_size=8),
}


@st.composite
def records(draw):
    """A job or a service: the fields the library reads, with any values."""
    record = {"id": draw(st.one_of(ids, ids, json_values))}
    for name in draw(st.lists(st.sampled_from(sorted(FIELDS)), max_size=6, unique=True)):
        record[name] = draw(st.one_of(FIELDS[name], FIELDS[name], json_values))
    return record


@st.composite
def wrapped_records(draw):
    """A record where a 2016 server puts one: data.service_details and the like."""
    key = draw(st.sampled_from(["service_details", "job_details", "job_schema", "message"]))
    return {"data": {key: draw(st.one_of(records(), json_values))}}


envelopes = st.one_of(
    st.builds(lambda data: {"data": data},
              st.one_of(records(), st.lists(records(), max_size=3), json_values)),
    wrapped_records(),
    records(),  # a 2017 job update answers with a bare job
    st.builds(lambda errors: {"errors": errors},
              st.one_of(json_values, st.lists(st.dictionaries(
                  st.sampled_from(["status_code", "title", "detail"]), json_values),
                  max_size=2))),
    json_values)

HTML_PAGES = [b"<!DOCTYPE html><html><body><h1>500 Internal Server Error</h1></body></html>",
              b"<html>\n<head><title>502 Bad Gateway</title></head></html>"]


@st.composite
def cut_short(draw):
    body = json_bytes(draw(envelopes))
    return body[:draw(st.integers(0, max(0, len(body) - 1)))]


bodies = st.one_of(
    envelopes.map(json_bytes),
    envelopes.map(json_bytes),
    st.sampled_from(HTML_PAGES + [b""]),
    cut_short(),
    st.binary(max_size=40),
    envelopes.map(lambda document: json_bytes(document, ensure_ascii=False).decode(
        "utf-8").encode("utf-16")),
    st.sampled_from([b'{"data": "caf\xe9"}', b'\xff\xfe{"data": []}', b'{"data": [\x80]}']))
http_statuses = st.one_of(st.sampled_from([200, 200, 201, 204, 302, 304, 400, 404, 500, 503]),
                          st.integers(100, 599))
header_values = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=255,
                                               blacklist_characters=u"\x7f"), max_size=12)
locations = st.one_of(header_values, st.sampled_from([
    "http://127.0.0.1/services/" + SERVICE_ID, "/services/%s/" % SERVICE_ID, "http://[bad",
    "http://user:secret@host/x"]))
content_types = st.sampled_from([None, "application/json", "application/json; charset=utf-8",
                                 "application/problem+json", "text/html; charset=utf-8",
                                 "text/plain", "", "nonsense"])
ODD_LENGTHS = ["abc", "-1", "1, 2", u"\xb2", "", " 7", "99999999999999999999", "0x10"]
extra_headers = st.lists(st.tuples(
    st.sampled_from(["Location", "Transfer-Encoding", "Content-Encoding", "Retry-After",
                     "X-Anything"]),
    st.one_of(locations, st.sampled_from(["chunked", "gzip"]))), max_size=2)


@st.composite
def plausible_answers(draw):
    """A success in a shape the library reads, with fields of any value."""
    status = draw(st.sampled_from([200, 201, 204]))
    document = draw(st.one_of(
        records().map(lambda record: {"data": record}),
        st.lists(records(), max_size=3).map(lambda items: {"data": items}),
        wrapped_records(),
        records()))
    body = json_bytes(document)
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    if draw(st.booleans()):
        headers.append(("Location", draw(locations)))
    return Answer(status, headers, body)


@st.composite
def any_answers(draw):
    """Any answer at all: status, headers and body drawn independently."""
    status = draw(http_statuses)
    body = draw(bodies)
    headers = []
    content_type = draw(content_types)
    if content_type is not None:
        headers.append(("Content-Type", content_type))
    length = draw(st.sampled_from(["exact", "exact", "missing", "longer", "shorter", "odd"]))
    if length == "exact":
        headers.append(("Content-Length", str(len(body))))
    elif length == "longer":
        headers.append(("Content-Length", str(len(body) + draw(st.integers(1, 100)))))
    elif length == "shorter":
        headers.append(("Content-Length", str(draw(st.integers(0, len(body))))))
    elif length == "odd":
        headers.append(("Content-Length", draw(st.sampled_from(ODD_LENGTHS))))
    headers.extend(draw(extra_headers))
    return Answer(status, headers, body)


answers = st.one_of(plausible_answers(), any_answers())


# The contract of every Connection call

def is_service(value):
    return isinstance(value, Service) and isinstance(value.id, six.string_types)


def is_job(value):
    return isinstance(value, Job) and isinstance(value.id, six.string_types)


def listing(check):
    return lambda value, generation: isinstance(value, list) and all(map(check, value))


SCHEMA = {"type": "object", "properties": {"value": {"type": "integer"}}}
ERROR_REPORT = {"type": "ValueError", "message": "no"}


def known_job():
    return Job(JOB_ID, "WORKING", {"value": 1}, {}, service_id=SERVICE_ID)


#: name: (the call, whether its result is what the call documents)
CALLS = {
    "list_services": (lambda api: api.list_services(), listing(is_service)),
    "get_service": (lambda api: api.get_service(SERVICE_ID), lambda value, gen: is_service(value)),
    "register_service": (lambda api: api.register_service("Adder", "Adds", SCHEMA, SCHEMA),
                         lambda value, gen: is_service(value)),
    "register_service_with_timeout": (
        lambda api: api.register_service("Adder", "Adds", SCHEMA, SCHEMA, timeout=60),
        lambda value, gen: is_service(value)),
    "heartbeat": (lambda api: api.heartbeat(SERVICE_ID), lambda value, gen: value is None),
    "set_availability": (lambda api: api.set_availability(SERVICE_ID, True),
                         lambda value, gen: value is None if gen == "2016" else is_service(value)),
    "list_jobs": (lambda api: api.list_jobs(SERVICE_ID), listing(is_job)),
    "submit_job": (lambda api: api.submit_job(SERVICE_ID, {"value": 1}),
                   lambda value, gen: is_job(value)),
    "get_job": (lambda api: api.get_job(JOB_ID), lambda value, gen: is_job(value)),
    "get_queue": (lambda api: api.get_queue(SERVICE_ID), listing(is_job)),
    "next_job": (lambda api: api.next_job(SERVICE_ID),
                 lambda value, gen: value is None or is_job(value)),
    "update_job": (lambda api: api.update_job(known_job(), "COMPLETED", {"value": 2}),
                   lambda value, gen: is_job(value)),
    "update_job_of_unknown_parameters": (
        lambda api: api.update_job(Job(JOB_ID, service_id=SERVICE_ID), "WORKING"),
        lambda value, gen: is_job(value)),
    "fail_job": (lambda api: api.fail_job(known_job(), ERROR_REPORT),
                 lambda value, gen: is_job(value)),
    "fail_job_with_result_schema": (
        lambda api: api.fail_job(known_job(), ERROR_REPORT, Schema(SCHEMA)),
        lambda value, gen: is_job(value)),
    "server_info": (lambda api: api.server_info(), lambda value, gen: isinstance(value, dict)),
    "is_alive": (lambda api: api.is_alive(), lambda value, gen: isinstance(value, bool)),
}


def assert_documented(error):
    """``error`` belongs to the documented tree and can be shown."""
    assert isinstance(error, TopChefError)
    assert six.text_type(error) and str(error) and repr(error)


#: Answers that broke the contract once, tried first on every call.
REGRESSIONS = [
    # Python 2: a redirect to a Location that is not ASCII (a UnicodeDecodeError).
    ("2016", [Answer(302, [("Content-Length", "0"), ("Location", u"\x80")], b"")]),
    # Python 3: "\xb2".isdigit() holds but int() refuses it (a ValueError).
    ("2017", [Answer(200, [("Content-Length", u"\xb2")], b'{"data": []}')]),
    # The root document as JSON null: server_info() (an AttributeError).
    ("2016", [Answer(200, [("Content-Length", "4")], b"null")]),
    # Well-formed timestamps of no date (a ValueError from Job()).
    ("2017", [json_answer({"data": {"id": JOB_ID, "date_submitted": "0000-00-00T00:00:00"}})]),
    ("2016", [json_answer({"data": [{"id": JOB_ID, "date_submitted": "2017-13-01T25:00:00"}]})]),
]


def with_regressions(test):
    for generation, script in REGRESSIONS:
        test = example(generation=generation, script=script)(test)
    return test


# 25 answers drawn per call, 425 in all, and new ones on every run (no
# example database) and interpreter: drawing them is most of this test's time.
@pytest.mark.parametrize("call", sorted(CALLS))
@settings(max_examples=25, **SETTINGS)
@given(generation=st.sampled_from(GENERATIONS), script=st.lists(answers, min_size=1,
                                                                 max_size=2))
@with_regressions
def test_every_connection_call_returns_its_model_or_raises_a_documented_error(
        scripted_server, call, generation, script):
    scripted_server.answer_in_turn([json_answer(ROOT_DOCUMENTS[generation])] + script)
    operation, documented = CALLS[call]
    with Connection(scripted_server.url, timeout=TIMEOUT, retries=0) as api:
        assert api.generation == generation  # asked once, of the first answer
        try:
            value = operation(api)
        except TopChefError as error:
            assert_documented(error)
        else:
            assert documented(value, generation), value
            repr(value)


@settings(max_examples=60, **SETTINGS)
@given(script=st.lists(answers, min_size=1, max_size=2))
def test_generation_detection_names_a_generation_or_raises_a_documented_error(
        scripted_server, script):
    scripted_server.answer_in_turn(script)
    with Connection(scripted_server.url, timeout=TIMEOUT, retries=0) as api:
        try:
            generation = api.generation
        except TopChefError as error:
            assert_documented(error)
        else:
            assert generation in GENERATIONS


@settings(max_examples=30, **SETTINGS)
@given(generation=st.sampled_from(GENERATIONS),
       extra=st.dictionaries(st.sampled_from(["version", "email", "name", "x"]), json_values,
                             max_size=3))
def test_a_root_document_of_either_generation_is_recognised_whatever_its_values(
        scripted_server, generation, extra):
    document = json.loads(json.dumps(ROOT_DOCUMENTS[generation]))
    document["meta" if generation == "2016" else "data"].update(extra)
    scripted_server.answer_in_turn([json_answer(document)])
    with Connection(scripted_server.url, timeout=TIMEOUT, retries=0) as api:
        assert api.generation == generation


@settings(max_examples=60, **SETTINGS)
@given(schema=schemas)
@example(schema={"$schema": []})
@example(schema={"properties": {"value": {"$ref": "#/nowhere"}}})
def test_a_2016_submission_answered_500_is_a_documented_error_whatever_schema_is_stored(
        scripted_server, schema):
    # A 2016 server answers 500 for invalid parameters (docs/server-api.rst
    # quirk invalid-parameters-500), so the library checks them against the
    # schema the server holds.
    service = json_answer({"data": {"id": SERVICE_ID, "job_registration_schema": schema}})
    scripted_server.answer_in_turn([json_answer(ROOT_DOCUMENTS["2016"]),
                                    Answer(500, [("Content-Length", "0")], b""), service])
    with Connection(scripted_server.url, timeout=TIMEOUT, retries=0) as api:
        with pytest.raises(TopChefError) as raised:
            api.submit_job(SERVICE_ID, {"value": 1})
    assert_documented(raised.value)


# A worker fed garbage

class AddOne(Client):
    def run(self, parameters):
        return {"value": parameters["value"] + 1}


def worker_route(generation, answers_by_route):
    """Answer ``GET /`` properly and every other route with its own drawn answer."""
    def route(method, path):
        if path == "/":
            return json_answer(ROOT_DOCUMENTS[generation])
        if path.startswith("/jobs/"):
            return answers_by_route["job" if method == "GET" else "update"]
        if path.endswith("/queue") or path.endswith("/next"):
            return answers_by_route["queue"]
        if method == "PATCH":
            return answers_by_route["heartbeat"]
        return answers_by_route["service"]
    return route


def services(data):
    return json_answer({"data": dict(data, id=SERVICE_ID)})


def queues(jobs):
    return json_answer({"data": [dict(job, id=JOB_ID) for job in jobs]})


#: Each route: mostly a plausible answer with fields of any value, else anything.
ROUTES = {
    "service": st.one_of(st.builds(services, st.fixed_dictionaries(
        {"timeout": FIELDS["timeout"], "job_registration_schema": schemas,
         "job_result_schema": schemas})), answers),
    "queue": st.one_of(st.lists(records(), max_size=2).map(queues), answers),
    "job": st.one_of(records().map(lambda job: json_answer({"data": job})), answers),
    "update": answers,
    "heartbeat": st.one_of(st.just(json_answer({"data": "checked in"})), answers),
}


@settings(max_examples=10, **SETTINGS)
@given(generation=st.sampled_from(GENERATIONS), answers_by_route=st.fixed_dictionaries(ROUTES))
# The service answered 404 at start: start() raised, and the test took it
# for a broken contract.
@example(generation="2016", answers_by_route=dict(
    service=Answer(404, [("Content-Length", "2")], b"{}"), queue=queues([]),
    job=json_answer({"data": {}}), update=json_answer({"data": []}),
    heartbeat=json_answer({"data": "checked in"})))
def test_a_worker_whose_server_answers_garbage_keeps_both_threads_alive(
        scripted_server, generation, answers_by_route):
    scripted_server.answer_by_route(worker_route(generation, answers_by_route))
    # Short pauses: the twelve requests below come quickly, whatever they meet.
    worker = AddOne(scripted_server.url, SERVICE_ID, heartbeat_interval=0.005,
                    poll_interval=0.002, max_poll_interval=0.005, failure_backoff=0.002,
                    max_failure_backoff=0.005, request_timeout=TIMEOUT, retries=0)
    requests_before = scripted_server.request_count
    try:
        worker.start(handle_sigterm=False)
    except ServiceNotFound:
        # The one error start() may raise: a service the server says is not
        # there (documented: it fails fast rather than poll for nothing).
        assert answers_by_route["service"].status == 404
        assert not worker.is_running
        worker.connection.close()
        return
    try:
        wait_until(lambda: scripted_server.request_count >= requests_before + 12 or
                   not threads_alive(worker), timeout=5)
        assert threads_alive(worker), worker.last_error
    finally:
        # A job whose every write gets garbage is retried until stop_now().
        if not worker.stop(timeout=0.05):
            worker.stop_now()
        worker.connection.close()
    deadline = monotonic() + 5
    assert all(thread.join(max(0, deadline - monotonic())) is None and not thread.is_alive()
               for thread in worker.processing_threads + [worker.heartbeat_thread])


def service_route(timeout):
    """A 2017 server whose one service states ``timeout``, with an empty queue."""
    service = services({"timeout": timeout, "job_registration_schema": SCHEMA,
                        "job_result_schema": SCHEMA})

    def route(method, path):
        if path == "/":
            return json_answer(ROOT_DOCUMENTS["2017"])
        if path.endswith("/queue"):
            return Answer(204, [], b"")
        return service  # the service, its heartbeat and its availability
    return route


@settings(max_examples=15, **SETTINGS)
@given(timeout=st.one_of(st.integers(), st.floats()))
@example(timeout=10 ** 12)  # killed the heartbeat thread (OverflowError in Event.wait)
@example(timeout=float("nan"))  # made the heartbeat spin
@example(timeout=-1)  # made the heartbeat spin
def test_a_worker_heartbeats_at_a_sane_pace_whatever_timeout_its_service_states(
        scripted_server, timeout):
    scripted_server.answer_by_route(service_route(timeout))
    worker = AddOne(scripted_server.url, SERVICE_ID, poll_interval=0.003, max_poll_interval=0.003,
                    failure_backoff=0.003, max_failure_backoff=0.006, request_timeout=TIMEOUT,
                    retries=0)
    worker.start(handle_sigterm=False)
    try:
        # Five polls of the queue, with a pause before each: long enough for a
        # heartbeat that spins to send many more than two requests meanwhile.
        wait_until(lambda: worker.stats.polls >= 5 or not threads_alive(worker), timeout=5)
        assert threads_alive(worker), worker.last_error
        heartbeats = worker.stats.heartbeats_sent + worker.stats.heartbeats_failed
        if not 0 < timeout < 3:
            # One at the start; the next one a third of the timeout later (a
            # timeout that is no positive number counts as the default 30 s).
            assert heartbeats <= 2, (heartbeats, worker.last_error)
    finally:
        assert worker.stop(timeout=5)
        worker.connection.close()
