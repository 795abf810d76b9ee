"""``api.Connection`` over real HTTP against the local server of both generations."""
import base64
import json
import logging
import threading
import uuid

import pytest
import requests
import requests.adapters
from six.moves import BaseHTTPServer

from topchef_client import (
    COMPLETED, ERROR, REGISTERED, WORKING, Connection, Job, JobNotFound, NetworkError,
    ServiceNotFound, TopChef, TopChefError, ValidationError)
from topchef_client import defaults
from topchef_client.schemas import Schema

from jobs import ADD_ONE_REGISTRATION_SCHEMA, ADD_ONE_RESULT_SCHEMA
from support import no_delay_setup, stop_http_server

#: Quick but finite, like conftest.TEST_TIMEOUT (conftest cannot be imported by name).
TEST_TIMEOUT = (2.0, 5.0)

ONLY_2016 = pytest.mark.parametrize("generation", ["2016"])
ONLY_2017 = pytest.mark.parametrize("generation", ["2017"])

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
MALFORMED_IDS = ["not-a-uuid", "", "../jobs", "1234"]
PASSWORD = "s3cr3t-Pa55"
ERROR_REPORT = {"type": "ValueError", "message": "cannot add one", "traceback": "..."}


def is_canonical_uuid(text):
    return str(uuid.UUID(text)) == text


def submit(connection, service, values):
    return [connection.submit_job(service.id, {"value": value}) for value in values]


# --- a tiny server that records what it is sent ------------------------------------------

class _RecordingHandler(BaseHTTPServer.BaseHTTPRequestHandler):
    """Answers like an empty 2017 server and records each request's headers."""

    protocol_version = "HTTP/1.1"
    setup = no_delay_setup
    answers = {
        "/": {"data": {"maintainer_name": "Tester", "version": "0.1dev"},
              "links": {"self": "/"}, "meta": {}},
        "/services": {"data": [], "links": {"self": "/services"}, "meta": {}},
    }

    def do_GET(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.server.recorded.append((self.command, self.path, dict(
            (name.lower(), value) for name, value in self.headers.items())))
        document = self.answers.get(self.path)
        status = 200 if document is not None else 404
        body = json.dumps(document or {"errors": [{"title": "Not Found"}]}).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if self.server.set_cookie:
            self.send_header("Set-Cookie", self.server.set_cookie)
        self.end_headers()
        self.wfile.write(body)

    do_PATCH = do_POST = do_GET

    def log_message(self, format, *args):
        pass


@pytest.fixture
def recording_server():
    """A server that answers like an empty 2017 TopChef and keeps ``recorded``."""
    httpd = BaseHTTPServer.HTTPServer(("127.0.0.1", 0), _RecordingHandler)
    httpd.recorded = []
    httpd.set_cookie = None
    httpd.url = "http://127.0.0.1:%d" % httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    yield httpd
    stop_http_server(httpd)
    thread.join(5)


def with_credentials(url, userinfo):
    return url.replace("http://", "http://%s@" % userinfo, 1)


def basic(user, password):
    token = base64.b64encode(("%s:%s" % (user, password)).encode("utf-8")).decode("ascii")
    return "Basic " + token


# --- construction, transport and credentials --------------------------------------------

def test_tls_certificates_are_verified_by_default(monkeypatch):
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    connection = Connection("https://topchef.example.org")
    assert connection.transport.session.verify is True


def test_a_ca_bundle_named_in_the_environment_is_used_for_verification(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/bundle.pem")
    connection = Connection("https://topchef.example.org")
    assert connection.transport.session.verify == "/etc/ssl/certs/bundle.pem"


def test_an_explicit_verify_false_is_not_overridden_by_the_environment(monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/bundle.pem")
    connection = Connection("https://topchef.example.org", verify=False)
    assert connection.transport.session.verify is False


def test_verify_and_a_client_certificate_are_handed_to_the_session():
    connection = Connection("https://topchef.example.org", verify="/etc/ca.pem",
                            cert=("/etc/client.pem", "/etc/client.key"))
    assert connection.transport.session.verify == "/etc/ca.pem"
    assert connection.transport.session.cert == ("/etc/client.pem", "/etc/client.key")


def test_every_request_gets_a_finite_timeout_by_default():
    connection = Connection("http://localhost:5000")
    assert connection.timeout == (defaults.DEFAULT_CONNECT_TIMEOUT,
                                  defaults.DEFAULT_READ_TIMEOUT)


@pytest.mark.parametrize("address", ["localhost:5000", "ftp://localhost", "http://",
                                     "/services"])
def test_an_address_that_is_not_an_http_url_is_a_value_error(address):
    with pytest.raises(ValueError) as caught:
        Connection(address)
    assert "http://" in str(caught.value)


def test_a_trailing_slash_and_credentials_are_taken_off_the_address():
    connection = Connection("http://user:%s@localhost:5000/" % PASSWORD)
    assert connection.address == "http://localhost:5000"


def test_a_password_in_the_address_is_sent_as_basic_auth(recording_server):
    with Connection(with_credentials(recording_server.url, "alice:" + PASSWORD)) as connection:
        connection.list_services()
    assert [headers.get("authorization") for _, _, headers in recording_server.recorded] == [
        basic("alice", PASSWORD)] * 2


def test_percent_encoded_credentials_in_the_address_are_decoded(recording_server):
    address = with_credentials(recording_server.url, "al%40ice:p%40ss%3Aword")
    with Connection(address) as connection:
        connection.list_services()
    assert recording_server.recorded[0][2]["authorization"] == basic("al@ice", "p@ss:word")


def test_auth_is_sent_with_every_request(recording_server):
    with Connection(recording_server.url, auth=("bob", PASSWORD)) as connection:
        connection.list_services()
    assert [headers.get("authorization") for _, _, headers in recording_server.recorded] == [
        basic("bob", PASSWORD)] * 2


def test_a_cookie_set_by_the_server_or_a_gateway_in_front_of_it_is_sent_back(
        recording_server):
    recording_server.set_cookie = "route=backend-2; Path=/"
    with Connection(recording_server.url) as connection:
        connection.list_services()
    assert [(path, headers.get("cookie")) for _, path, headers in recording_server.recorded] == [
        ("/", None), ("/services", "route=backend-2")]


def test_extra_headers_are_sent_with_every_request(recording_server):
    with Connection(recording_server.url, headers={"X-Api-Token": "t0k3n"}) as connection:
        connection.list_services()
    assert [(path, headers.get("x-api-token"))
            for _, path, headers in recording_server.recorded] == [
        ("/", "t0k3n"), ("/services", "t0k3n")]


@pytest.mark.parametrize("options", [
    {"address": "http://alice:%s@127.0.0.1:5000" % PASSWORD},
    {"address": "http://127.0.0.1:5000", "auth": ("alice", PASSWORD)},
], ids=["in-the-address", "in-auth"])
def test_a_password_never_appears_in_the_repr_of_connection_or_topchef(options):
    connection = Connection(**options)
    topchef = TopChef(connection=connection)
    for text in (repr(connection), str(connection), repr(topchef), str(topchef)):
        assert PASSWORD not in text
        assert "127.0.0.1:5000" in text


def test_a_password_in_a_malformed_address_is_not_shown_in_the_error():
    with pytest.raises(ValueError) as caught:
        Connection("alice:%s@localhost:5000" % PASSWORD)
    assert PASSWORD not in str(caught.value)
    assert "localhost:5000" in str(caught.value)


@pytest.mark.parametrize("in_address", [True, False], ids=["in-the-address", "in-auth"])
def test_a_password_never_appears_in_exception_messages_or_log_records(
        server, caplog, in_address):
    caplog.set_level(logging.DEBUG)
    if in_address:
        connection = Connection(with_credentials(server.url, "alice:" + PASSWORD),
                                timeout=TEST_TIMEOUT)
    else:
        connection = Connection(server.url, auth=("alice", PASSWORD), timeout=TEST_TIMEOUT)
    dead = Connection(with_credentials("http://127.0.0.1:1", "alice:" + PASSWORD),
                      retries=1, timeout=(0.5, 0.5))
    failures = []
    for call in (lambda: connection.get_job(UNKNOWN_ID),
                 lambda: connection.get_service(UNKNOWN_ID),
                 lambda: connection.submit_job(UNKNOWN_ID, {"value": 1}),
                 lambda: dead.list_services()):
        with pytest.raises(TopChefError) as caught:
            call()
        failures.append(caught.value)
    assert [type(failure).__name__ for failure in failures] == [
        "JobNotFound", "ServiceNotFound", "ServiceNotFound", "NetworkError"]
    assert caplog.records, "the exchanges should have been logged"
    for text in [str(failure) for failure in failures] + [
            "%r %r" % (failure.url, failure.body) for failure in failures] + [
            record.getMessage() for record in caplog.records]:
        assert PASSWORD not in text


def test_a_given_session_is_used_as_it_is_and_not_closed(server):
    class CountingAdapter(requests.adapters.HTTPAdapter):
        sent = 0

        def send(self, *args, **kwargs):
            CountingAdapter.sent += 1
            return requests.adapters.HTTPAdapter.send(self, *args, **kwargs)

    session = requests.Session()
    adapter = CountingAdapter()
    session.mount("http://", adapter)
    session.verify = False
    closed = []
    real_close, session.close = session.close, lambda: closed.append(True)
    try:
        with Connection(server.url, session=session) as connection:
            connection.list_services()
        assert CountingAdapter.sent == 2
        assert session.get_adapter(server.url) is adapter
        assert session.verify is False
        assert closed == []
    finally:
        real_close()


def test_closing_a_connection_closes_the_session_it_made(monkeypatch):
    closed = []
    monkeypatch.setattr(requests.Session, "close", lambda session: closed.append(session))
    with Connection("http://localhost:5000") as connection:
        pass
    assert closed == [connection.transport.session]


# --- the server generation ---------------------------------------------------------------

def test_the_generation_of_the_server_is_detected(connection, server):
    assert connection.generation == server.generation


def test_the_generation_is_asked_once_for_many_calls(connection, server):
    connection.list_services()
    connection.list_services()
    assert connection.generation == server.generation
    assert server.request_count == 3


def test_a_given_generation_skips_detection(server):
    with Connection(server.url, timeout=TEST_TIMEOUT,
                    generation=server.generation) as connection:
        assert connection.list_services() == []
    assert server.request_count == 1


def test_server_info_describes_the_server(connection):
    assert connection.server_info()["version"] == "0.1dev"


def test_server_info_on_a_new_connection_also_learns_the_generation_from_its_get(server):
    with Connection(server.url, timeout=TEST_TIMEOUT) as fresh:
        before = server.request_count
        assert fresh.server_info()["version"] == "0.1dev"
        assert fresh.generation == server.generation
        assert server.request_count - before == 1


def test_is_alive_is_true_for_a_running_server(connection):
    assert connection.is_alive() is True


def test_is_alive_is_false_for_a_closed_port_and_does_not_raise():
    assert Connection("http://127.0.0.1:1", retries=0, timeout=(0.5, 0.5)).is_alive() is False


def test_request_count_counts_the_requests_sent(connection, server):
    connection.list_services()
    assert connection.request_count == server.request_count == 2


# --- services -----------------------------------------------------------------------------

def test_an_empty_server_lists_no_services(connection):
    assert connection.list_services() == []


def test_list_services_returns_every_service_in_the_order_registered(connection):
    registered = [connection.register_service(name, "a service", ADD_ONE_REGISTRATION_SCHEMA)
                  for name in ("First", "Second", "Third")]
    listed = connection.list_services()
    assert [(service.id, service.name) for service in listed] == [
        (service.id, service.name) for service in registered]


@ONLY_2016
def test_a_2016_service_list_says_whether_each_service_timed_out(connection, service):
    assert [(item.id, item.has_timed_out) for item in connection.list_services()] == [
        (service.id, False)]


@ONLY_2017
def test_a_2017_service_list_gives_each_description(connection, service):
    assert [(item.id, item.description) for item in connection.list_services()] == [
        (service.id, "Adds one to a value")]


def test_register_service_returns_the_new_service_with_a_canonical_id(connection):
    service = connection.register_service("AddOne", "Adds one", ADD_ONE_REGISTRATION_SCHEMA,
                                          ADD_ONE_RESULT_SCHEMA)
    assert is_canonical_uuid(service.id)
    assert (service.name, service.description, service.timeout, service.has_timed_out) == (
        "AddOne", "Adds one", 30, False)


def test_get_service_returns_the_service_with_its_registration_schema(connection, service):
    found = connection.get_service(service.id)
    assert (found.id, found.name, found.description, found.timeout) == (
        service.id, "AddOne", "Adds one to a value", 30)
    assert found.job_registration_schema == ADD_ONE_REGISTRATION_SCHEMA


@ONLY_2016
def test_a_2016_service_has_only_the_trimmed_schemas_the_server_kept(connection):
    service = connection.register_service(
        "Trimmed", "loses keys", dict(ADD_ONE_REGISTRATION_SCHEMA, title="Lost"),
        ADD_ONE_RESULT_SCHEMA)
    found = connection.get_service(service.id)
    assert found.job_registration_schema == ADD_ONE_REGISTRATION_SCHEMA
    assert found.job_result_schema == {"type": "object"}
    assert found.is_available is None


@ONLY_2017
def test_a_2017_service_keeps_both_schemas_verbatim(connection):
    schema = dict(ADD_ONE_REGISTRATION_SCHEMA, title="Kept")
    service = connection.register_service("Verbatim", "keeps keys", schema,
                                          ADD_ONE_RESULT_SCHEMA)
    found = connection.get_service(service.id)
    assert (found.job_registration_schema, found.job_result_schema, found.is_available) == (
        schema, ADD_ONE_RESULT_SCHEMA, False)


@ONLY_2017
def test_a_2017_service_can_be_registered_with_its_own_timeout(connection):
    service = connection.register_service("Slow", "slow", ADD_ONE_REGISTRATION_SCHEMA,
                                          timeout=90)
    assert service.timeout == 90
    assert connection.get_service(service.id).timeout == 90


@ONLY_2016
def test_a_2016_server_ignores_a_timeout_with_a_warning(connection, caplog):
    service = connection.register_service("Slow", "slow", ADD_ONE_REGISTRATION_SCHEMA,
                                          timeout=90)
    assert service.timeout == 30
    assert any("service_timeout=90 is ignored" in record.getMessage()
               for record in caplog.records if record.levelno == logging.WARNING)


@pytest.mark.parametrize("timeout", [0, -5, 1.5, True, "30"])
def test_a_timeout_that_is_not_a_positive_whole_number_is_refused_before_any_request(
        connection, server, timeout):
    with pytest.raises((TypeError, ValueError)) as caught:
        connection.register_service("Bad", "bad", ADD_ONE_REGISTRATION_SCHEMA,
                                    service_timeout=timeout)
    assert "timeout" in str(caught.value)
    assert server.request_count == 0


@pytest.mark.parametrize("schemas", [
    (["not", "a", "dict"], None), (ADD_ONE_REGISTRATION_SCHEMA, "object")])
def test_a_schema_that_is_not_a_dict_is_refused_before_any_request(connection, server, schemas):
    with pytest.raises(ValueError) as caught:
        connection.register_service("Bad", "bad", *schemas)
    assert "must be a dict" in str(caught.value)
    assert server.request_count == 0


@pytest.mark.parametrize("call", ["get_service", "list_jobs", "submit_job", "get_queue",
                                  "next_job", "heartbeat"])
def test_an_unknown_service_is_service_not_found(connection, call):
    arguments = (UNKNOWN_ID, {"value": 1}) if call == "submit_job" else (UNKNOWN_ID,)
    with pytest.raises(ServiceNotFound) as caught:
        getattr(connection, call)(*arguments)
    assert UNKNOWN_ID in str(caught.value)
    assert caught.value.status_code in (404, 500)


@ONLY_2016
def test_the_2016_500_for_an_unknown_service_becomes_service_not_found_after_a_look_at_the_list(
        connection, server, service):
    assert connection.generation == "2016"
    before = server.request_count
    with pytest.raises(ServiceNotFound) as caught:
        connection.get_service(UNKNOWN_ID)
    assert server.request_count - before == 2  # the detail (500), then the list
    assert caught.value.status_code == 500
    assert "GET %s/services/%s" % (server.url, UNKNOWN_ID) in str(caught.value)


@ONLY_2017
def test_the_availability_of_an_unknown_2017_service_is_service_not_found(connection):
    with pytest.raises(ServiceNotFound) as caught:
        connection.set_availability(UNKNOWN_ID, True)
    assert caught.value.status_code == 404


@pytest.mark.parametrize("call", ["get_service", "list_jobs", "submit_job", "get_queue",
                                  "next_job", "heartbeat", "set_availability"])
@pytest.mark.parametrize("malformed", MALFORMED_IDS)
def test_a_malformed_service_id_is_service_not_found_without_a_request(
        connection, server, call, malformed):
    arguments = {"submit_job": ({"value": 1},), "set_availability": (True,)}.get(call, ())
    with pytest.raises(ServiceNotFound) as caught:
        getattr(connection, call)(malformed, *arguments)
    assert "UUID" in str(caught.value)
    assert server.request_count == 0


@pytest.mark.parametrize("form", [
    lambda text: text.upper(), lambda text: text.replace("-", ""),
    lambda text: "{%s}" % text, uuid.UUID,
], ids=["upper-case", "no-hyphens", "braces", "uuid-object"])
def test_a_service_id_in_any_uuid_form_is_accepted(connection, service, form):
    assert connection.get_service(form(service.id)).id == service.id


def test_a_heartbeat_brings_a_timed_out_service_back(clocked_server):
    with Connection(clocked_server.url, timeout=TEST_TIMEOUT) as connection:
        service = connection.register_service("AddOne", "Adds one",
                                              ADD_ONE_REGISTRATION_SCHEMA)
        clocked_server.clock.advance(31)
        assert connection.get_service(service.id).has_timed_out is True
        assert connection.heartbeat(service.id) is None
        assert connection.get_service(service.id).has_timed_out is False


@ONLY_2017
def test_set_availability_sets_the_2017_flag_and_returns_the_service(connection, service):
    assert connection.set_availability(service.id, True).is_available is True
    assert connection.get_service(service.id).is_available is True
    assert connection.set_availability(service.id, False).is_available is False
    assert connection.get_service(service.id).is_available is False


@ONLY_2016
def test_set_availability_on_2016_sends_nothing_and_returns_none(connection, server, service):
    assert connection.generation == "2016"
    before = server.request_count
    assert connection.set_availability(service.id, True) is None
    assert server.request_count == before


# --- jobs ---------------------------------------------------------------------------------

def test_submit_job_returns_a_registered_job_with_its_parameters(connection, service):
    job = connection.submit_job(service.id, {"value": 3})
    assert is_canonical_uuid(job.id)
    assert (job.status, job.parameters, job.service_id) == (REGISTERED, {"value": 3}, service.id)
    assert job.date_submitted.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("parameters", [[1], "value=3", None, 3])
def test_parameters_that_are_not_a_dict_are_refused_before_any_request(
        connection, server, service, parameters):
    before = server.request_count
    with pytest.raises(ValueError) as caught:
        connection.submit_job(service.id, parameters)
    assert "must be a dict" in str(caught.value)
    assert server.request_count == before


def test_parameters_the_server_refuses_become_a_validation_error(connection, server, service):
    with pytest.raises(ValidationError) as caught:
        connection.submit_job(service.id, {"value": 30})
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.status_code == {"2016": 500, "2017": 400}[server.generation]
    assert "POST %s/services/%s/jobs" % (server.url, service.id) in str(error)
    assert "maximum" in str(error)
    assert server.jobs() == []


@ONLY_2016
def test_the_2016_500_for_invalid_parameters_names_the_failing_field(connection, service):
    with pytest.raises(ValidationError) as caught:
        connection.submit_job(service.id, {"value": "three"})
    assert caught.value.path == ["value"]
    assert "answered 500" in str(caught.value)


def test_get_job_returns_the_job_with_parameters_and_result(connection, service):
    job = connection.submit_job(service.id, {"value": 3})
    connection.update_job(job, COMPLETED, {"value": 4})
    found = connection.get_job(job.id)
    assert (found.id, found.status, found.parameters, found.result) == (
        job.id, COMPLETED, {"value": 3}, {"value": 4})
    assert found.date_submitted == job.date_submitted


def test_an_unknown_job_is_job_not_found_naming_the_request(connection, server):
    with pytest.raises(JobNotFound) as caught:
        connection.get_job(UNKNOWN_ID)
    message = str(caught.value)
    assert "GET %s/jobs/%s answered 404" % (server.url, UNKNOWN_ID) in message
    assert "not found" in message
    assert (caught.value.method, caught.value.status_code) == ("GET", 404)


@pytest.mark.parametrize("call", ["get_job", "update_job", "fail_job"])
@pytest.mark.parametrize("malformed", MALFORMED_IDS)
def test_a_malformed_job_id_is_job_not_found_without_a_request(
        connection, server, call, malformed):
    calls = {"get_job": lambda: connection.get_job(malformed),
             "update_job": lambda: connection.update_job(Job(malformed), WORKING),
             "fail_job": lambda: connection.fail_job(Job(malformed), ERROR_REPORT)}
    with pytest.raises(JobNotFound):
        calls[call]()
    assert server.request_count == 0


def test_list_jobs_returns_every_job_of_the_service_oldest_first(connection, server, service):
    jobs = submit(connection, service, [1, 2, 3])
    connection.update_job(jobs[1], WORKING)
    other = connection.register_service("Other", "other", ADD_ONE_REGISTRATION_SCHEMA)
    connection.submit_job(other.id, {"value": 9})
    listed = connection.list_jobs(service.id)
    assert [(job.id, job.status, job.service_id) for job in listed] == [
        (jobs[0].id, REGISTERED, service.id), (jobs[1].id, WORKING, service.id),
        (jobs[2].id, REGISTERED, service.id)]


@ONLY_2016
def test_a_2016_job_list_has_no_parameters(connection, service):
    submit(connection, service, [1])
    assert [job.parameters for job in connection.list_jobs(service.id)] == [None]


@ONLY_2017
def test_a_2017_job_list_has_parameters_and_results(connection, service):
    job = submit(connection, service, [1])[0]
    connection.update_job(job, COMPLETED, {"value": 2})
    assert [(job.parameters, job.result) for job in connection.list_jobs(service.id)] == [
        ({"value": 1}, {"value": 2})]


def test_an_empty_queue_is_an_empty_list(connection, service):
    assert connection.get_queue(service.id) == []


def test_the_queue_leaves_out_jobs_that_are_not_registered(connection, service):
    jobs = submit(connection, service, [1, 2, 3])
    connection.update_job(jobs[0], WORKING)
    connection.update_job(jobs[2], COMPLETED, {"value": 4})
    assert [job.id for job in connection.get_queue(service.id)] == [jobs[1].id]


@ONLY_2016
def test_the_2016_queue_lists_every_registered_job_without_parameters(connection, service):
    jobs = submit(connection, service, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 2])
    queue = connection.get_queue(service.id)
    assert [job.id for job in queue] == [job.id for job in jobs]
    assert set(job.parameters for job in queue) == set([None])


@ONLY_2017
def test_the_2017_queue_lists_at_most_ten_jobs_with_their_parameters(connection, service):
    jobs = submit(connection, service, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 1, 2])
    queue = connection.get_queue(service.id)
    assert [job.id for job in queue] == [job.id for job in jobs[:10]]
    assert [job.parameters for job in queue] == [job.parameters for job in jobs[:10]]


def test_next_job_returns_the_oldest_registered_job_with_its_parameters(connection, service):
    jobs = submit(connection, service, [1, 2, 3])
    connection.update_job(jobs[0], WORKING)
    found = connection.next_job(service.id)
    assert (found.id, found.status, found.parameters, found.service_id) == (
        jobs[1].id, REGISTERED, {"value": 2}, service.id)


def test_next_job_leaves_the_job_registered(connection, service):
    job = submit(connection, service, [1])[0]
    connection.next_job(service.id)
    assert connection.get_job(job.id).status == REGISTERED


def test_next_job_of_an_empty_queue_is_none(connection, service):
    assert connection.next_job(service.id) is None


def test_update_job_sets_the_status_and_result_and_returns_the_job(connection, server, service):
    job = submit(connection, service, [3])[0]
    updated = connection.update_job(job, COMPLETED, {"value": 4})
    assert (updated.id, updated.status, updated.result, updated.service_id) == (
        job.id, COMPLETED, {"value": 4}, service.id)
    assert [(stored["status"], stored["result"]) for stored in server.jobs()] == [
        (COMPLETED, {"value": 4})]


def test_update_job_without_a_result_keeps_the_result(connection, service):
    job = submit(connection, service, [3])[0]
    connection.update_job(job, COMPLETED, {"value": 4})
    assert connection.update_job(job, WORKING).result == {"value": 4}


def test_update_job_keeps_the_parameters(connection, server, service):
    job = submit(connection, service, [3])[0]
    connection.update_job(job, WORKING)
    assert [stored["parameters"] for stored in server.jobs()] == [{"value": 3}]


@ONLY_2016
def test_a_2016_update_of_a_job_without_parameters_fetches_them_first(
        connection, server, service):
    submit(connection, service, [3])
    queued = connection.get_queue(service.id)[0]
    assert queued.parameters is None
    before = server.request_count
    updated = connection.update_job(queued, WORKING)
    assert server.request_count - before == 2  # GET the job, then PUT it
    assert (updated.parameters, updated.service_id) == ({"value": 3}, service.id)
    assert [stored["parameters"] for stored in server.jobs()] == [{"value": 3}]


@pytest.mark.parametrize("status", ["DONE", "working", "", None, 1])
def test_an_unknown_status_is_a_value_error_without_a_request(
        connection, server, service, status):
    job = submit(connection, service, [3])[0]
    before = server.request_count
    with pytest.raises(ValueError) as caught:
        connection.update_job(job, status)
    assert repr(status) in str(caught.value)
    assert server.request_count == before


@ONLY_2016
def test_error_is_not_a_2016_status(connection, server, service):
    job = submit(connection, service, [3])[0]
    before = server.request_count
    with pytest.raises(ValueError) as caught:
        connection.update_job(job, ERROR)
    assert "2016" in str(caught.value)
    assert server.request_count == before


def test_a_result_that_is_not_a_dict_is_a_value_error_without_a_request(
        connection, server, service):
    job = submit(connection, service, [3])[0]
    before = server.request_count
    with pytest.raises(ValueError):
        connection.update_job(job, COMPLETED, [4])
    assert server.request_count == before


@ONLY_2017
def test_a_2017_result_that_breaks_the_result_schema_is_a_validation_error(
        connection, server, service):
    job = submit(connection, service, [3])[0]
    with pytest.raises(ValidationError) as caught:
        connection.update_job(job, COMPLETED, {"value": "four"})
    assert "PATCH %s/jobs/%s answered 400" % (server.url, job.id) in str(caught.value)
    assert [stored["status"] for stored in server.jobs()] == [REGISTERED]


def test_updating_an_unknown_job_is_job_not_found(connection, service):
    with pytest.raises(JobNotFound):
        connection.update_job(Job(UNKNOWN_ID, parameters={"value": 1}), WORKING)


@ONLY_2017
def test_fail_job_on_2017_sets_error_with_the_report_when_the_result_schema_allows(
        connection, server):
    service = connection.register_service("Open", "any result", ADD_ONE_REGISTRATION_SCHEMA)
    job = connection.submit_job(service.id, {"value": 3})
    failed = connection.fail_job(job, ERROR_REPORT)
    assert (failed.status, failed.result) == (ERROR, {"error": ERROR_REPORT})
    assert failed.is_failed and failed.error == ERROR_REPORT


@ONLY_2017
def test_fail_job_on_2017_sets_only_the_status_when_the_result_schema_has_no_room(
        connection, server, service):
    job = connection.submit_job(service.id, {"value": 3})
    failed = connection.fail_job(job, ERROR_REPORT)
    assert (failed.status, failed.result) == (ERROR, None)
    assert [(stored["status"], stored["result"]) for stored in server.jobs()] == [(ERROR, None)]


@ONLY_2017
def test_fail_job_on_2017_with_a_known_result_schema_sends_one_request(
        connection, server, service):
    job = connection.submit_job(service.id, {"value": 3})
    before = server.request_count
    failed = connection.fail_job(job, ERROR_REPORT, Schema(ADD_ONE_RESULT_SCHEMA))
    assert (failed.status, failed.result) == (ERROR, None)
    assert server.request_count - before == 1


@ONLY_2016
def test_fail_job_on_2016_completes_the_job_with_the_report_as_result(
        connection, server, service):
    job = connection.submit_job(service.id, {"value": 3})
    failed = connection.fail_job(job, ERROR_REPORT)
    assert (failed.status, failed.result) == (COMPLETED, {"error": ERROR_REPORT})
    assert failed.is_failed and not failed.is_complete
    assert [(stored["status"], stored["parameters"]) for stored in server.jobs()] == [
        (COMPLETED, {"value": 3})]


WIRE = {
    "get_service": {"2016": ["GET /services/{s}"], "2017": ["GET /services/{s}"]},
    "heartbeat": {"2016": ["PATCH /services/{s}"], "2017": ["PATCH /services/{s}"]},
    "set_availability": {"2016": [], "2017": ["PATCH /services/{s}"]},
    "submit_job": {"2016": ["POST /services/{s}/jobs"], "2017": ["POST /services/{s}/jobs"]},
    "list_jobs": {"2016": ["GET /services/{s}/jobs"], "2017": ["GET /services/{s}/jobs"]},
    "get_queue": {"2016": ["GET /services/{s}/queue"], "2017": ["GET /services/{s}/queue"]},
    "next_job": {"2016": ["GET /services/{s}/queue", "GET /jobs/{j}"],
                 "2017": ["GET /services/{s}/jobs/next"]},
    "get_job": {"2016": ["GET /jobs/{j}"], "2017": ["GET /jobs/{j}"]},
    "update_job": {"2016": ["PUT /jobs/{j}"], "2017": ["PATCH /jobs/{j}"]},
    "fail_job": {"2016": ["PUT /jobs/{j}"], "2017": ["PATCH /jobs/{j}"]},
}


@pytest.mark.parametrize("call", sorted(WIRE))
def test_each_call_sends_the_requests_of_its_generation(proxy, server, connection, call):
    service = connection.register_service("Open", "any result", ADD_ONE_REGISTRATION_SCHEMA)
    job = connection.submit_job(service.id, {"value": 3})
    job.result = {}  # as a worker knows it, so that no call needs to fetch it
    through_proxy = Connection(proxy.url, timeout=TEST_TIMEOUT, generation=server.generation)
    arguments = {
        "set_availability": (service.id, True), "submit_job": (service.id, {"value": 4}),
        "get_job": (job.id,), "update_job": (job, COMPLETED, {"value": 4}),
        "fail_job": (job, ERROR_REPORT)}.get(call, (service.id,))
    getattr(through_proxy, call)(*arguments)
    assert ["%s %s" % (record.method, record.path) for record in proxy.requests] == [
        line.format(s=service.id, j=job.id) for line in WIRE[call][server.generation]]


def test_errors_from_an_exchange_carry_method_url_status_and_body(connection, server):
    with pytest.raises(ServiceNotFound) as caught:
        connection.list_jobs(UNKNOWN_ID)
    error = caught.value
    assert (error.method, error.url, error.status_code) == (
        "GET", "%s/services/%s/jobs" % (server.url, UNKNOWN_ID), 404)
    assert UNKNOWN_ID in error.body


def test_a_network_failure_is_a_network_error_naming_the_request():
    connection = Connection("http://127.0.0.1:1", retries=0, timeout=(0.5, 0.5),
                            generation="2017")
    with pytest.raises(NetworkError) as caught:
        connection.list_services()
    assert "GET http://127.0.0.1:1/services" in str(caught.value)
    assert isinstance(caught.value, IOError)
