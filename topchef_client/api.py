"""HTTP in, models and exceptions out: the one module that talks to the server.

``Connection`` owns a keep-alive ``requests.Session`` with a finite timeout on
every request and bounded, jittered retries of transient failures. It asks
``GET /`` once which API generation the server speaks and hands each
operation to one of two small adapters, ``Generation2016`` and
``Generation2017``, that hold every difference between them and every server
quirk a client meets (the documentation's HTTP API page describes both).
Comments cite the sections of the TopChef HTTP API reference that the code
follows.
"""
import json
import logging
import random
import socket
import threading
import uuid

import requests
import requests.adapters
import requests.cookies
import six
import urllib3.exceptions
from six.moves.urllib.parse import unquote, urlsplit, urlunsplit
from urllib3.util.retry import Retry

from topchef_client import defaults
from topchef_client.compat import monotonic, to_text
from topchef_client.exceptions import (
    BadRequest, JobNotFound, NetworkError, NotFound, ProtocolError, ResponseTimeout,
    ServerError, ServiceNotFound, TopChefError, ValidationError, excerpt)
from topchef_client.models import COMPLETED, ERROR, ERROR_KEY, Job, Service
from topchef_client.schemas import Schema

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Dict, List, Optional, Sequence, Tuple, Type, Union  # noqa: F401


log = logging.getLogger(__name__)

#: Statuses worth retrying: a proxy or a restarting server (never TopChef's own 500s).
RETRY_STATUSES = frozenset([502, 503, 504])
#: Methods retried after a failure that may have reached the server. POST is
#: not among them: a submitted job must never be submitted twice. TopChef's
#: PUT and PATCH set state, so repeating them is harmless.
IDEMPOTENT_METHODS = frozenset(["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"])
_NO_BODY = object()


class JitteredRetry(Retry):
    """urllib3's ``Retry`` with "equal jitter" and a cap on each pause.

    Workers that lost the same server retry at different moments instead of
    all at once.
    """

    def get_backoff_time(self):
        backoff = min(defaults.DEFAULT_BACKOFF_MAX, Retry.get_backoff_time(self))
        return backoff / 2 + random.uniform(0, backoff / 2)


def make_retry(retries=defaults.DEFAULT_RETRIES,
               backoff_factor=defaults.DEFAULT_BACKOFF_FACTOR):
    # type: (int, float) -> Retry
    """The retry policy: ``retries`` attempts more on a transient failure."""
    options = dict(total=retries, connect=retries, read=retries, status=retries,
                   redirect=0, status_forcelist=RETRY_STATUSES,
                   backoff_factor=backoff_factor, raise_on_status=False,
                   respect_retry_after_header=False)  # type: Dict[str, Any]
    # allowed_methods exists from urllib3 1.26 on, which requirements.txt asks for.
    return JitteredRetry(allowed_methods=IDEMPOTENT_METHODS, **options)


def split_credentials(address):
    # type: (str) -> Tuple[str, Optional[Tuple[str, str]]]
    """``http://user:pw@host/`` -> ``("http://host", ("user", "pw"))``.

    The password then lives only in the session's auth, never in a URL that
    a message or a log line could show.
    """
    parts = urlsplit(address)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("the TopChef address must be an http:// or https:// URL "
                         "such as http://localhost:5000, not %r" % (redact_url(address),))
    credentials = None
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, netloc = netloc.rsplit("@", 1)
        user, _, password = userinfo.partition(":")
        # Userinfo is percent-encoded (RFC 3986), as a password with "@" must be.
        credentials = (unquote(user), unquote(password))
    address = urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))
    return address, credentials


def redact_url(url):
    # type: (str) -> str
    """The URL with any password replaced by ``***``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if parts.password is None:
        if not parts.netloc and "@" in url:
            # No "//" (say "user:pw@host:5000"): nothing parses as userinfo,
            # so hide everything before the host.
            return "***@" + url.rsplit("@", 1)[1]
        return url
    userinfo, host = parts.netloc.rsplit("@", 1)
    user = userinfo.split(":", 1)[0]
    return urlunsplit((parts.scheme, "%s:***@%s" % (user, host)) + tuple(parts[2:]))


def canonical_id(value, not_found):
    # type: (Any, Type[NotFound]) -> str
    """The canonical text of a service or job id.

    Both servers only ever mint UUIDs, so anything else cannot exist; saying
    so here saves a request, and the 500 that a 2016 server answers for such
    ids.
    """
    if isinstance(value, uuid.UUID):
        return str(value)
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise not_found("%s %r does not exist: TopChef ids are UUIDs" % (
            "service" if not_found is ServiceNotFound else "job", value))


class Reply(object):
    """An answer from the server: status, headers and body bytes."""

    def __init__(self, method, url, status, headers, body):
        self.method = method
        self.url = url
        self.status = status
        self.headers = headers
        self.body = body

    def error(self, error_class, summary):
        """``error_class`` for this exchange, its message naming all of it."""
        message = "%s: %s %s answered %d" % (summary, self.method, self.url, self.status)
        message += ": " + (self.error_detail() or "(empty body)")
        return error_class(message, method=self.method, url=self.url,
                           status_code=self.status, body=excerpt(self.body))

    def error_detail(self):
        """The server's own words about an error, in either generation's shape."""
        try:
            errors = json.loads(self.body.decode("utf-8"))["errors"]
        except (ValueError, KeyError, TypeError, AttributeError):
            return excerpt(self.body)
        if isinstance(errors, list):  # 2017: [{"status_code", "title", "detail"}]
            return excerpt("; ".join(
                "%s: %s" % (entry.get("title"), entry.get("detail"))
                if isinstance(entry, dict) else six.text_type(entry) for entry in errors))
        if isinstance(errors, six.string_types):  # 2016: a string or an object
            return excerpt(errors)
        return excerpt(json.dumps(errors, sort_keys=True))

    def document(self):
        """The body as JSON; ``ProtocolError`` if it is not."""
        try:
            return json.loads(self.body.decode("utf-8"))
        except ValueError:
            raise self.error(ProtocolError, "the answer is not JSON")

    def data(self, kind=None):
        """The ``data`` member of the envelope, checked to be a ``kind``."""
        document = self.document()
        if not isinstance(document, dict) or "data" not in document:
            raise self.error(ProtocolError, "the answer has no 'data' member")
        return self.checked(document["data"], kind)

    def checked(self, value, kind):
        if kind is not None and not isinstance(value, kind):
            raise self.error(ProtocolError, "the answer's data is a %s, not a %s" % (
                type(value).__name__, kind.__name__))
        return value


class Connection(object):
    """A connection to one TopChef server, of either API generation.

    :param address: the server's base URL, e.g. ``http://localhost:5000``.
    :param timeout: seconds, or a ``(connect, read)`` pair, for every request.
    :param retries: attempts more after a transient failure (an ``int``, or
        a urllib3 ``Retry``); ``0`` disables retries.
    :param auth: anything ``requests`` accepts as ``auth``, e.g. a
        ``(user, password)`` pair; a password in ``address`` works too.
    :param headers: extra headers for every request (e.g. an API gateway token).
    :param verify: TLS verification: ``True`` (the default), ``False``, or a
        CA bundle path.
    :param cert: a client certificate path, or a ``(cert, key)`` pair.
    :param session: a ready ``requests.Session`` to use as it is (its
        adapters, retries and TLS settings are then yours); it is not closed
        by ``close()``.
    :param pool_size: keep-alive connections kept open to the server.
    :param generation: ``"2016"`` or ``"2017"`` to skip detection.
    """

    def __init__(self, address, timeout=None, retries=defaults.DEFAULT_RETRIES,
                 auth=None, headers=None, verify=True, cert=None, session=None,
                 pool_size=defaults.DEFAULT_POOL_SIZE, generation=None):
        # type: (str, Union[None, float, Tuple[float, float]], Union[int, Retry], Any, Optional[Dict[str, str]], Union[bool, str], Union[None, str, Tuple[str, str]], Optional[requests.Session], int, Optional[str]) -> None
        self.address, credentials = split_credentials(address)
        self.timeout = timeout if timeout is not None else (
            defaults.DEFAULT_CONNECT_TIMEOUT, defaults.DEFAULT_READ_TIMEOUT)
        self._owns_session = session is None
        self._adapter_for_sending = None
        if session is None:
            session = requests.Session()
            adapter = self._adapter_for_sending = requests.adapters.HTTPAdapter(
                pool_connections=1, pool_maxsize=pool_size,
                max_retries=retries if isinstance(retries, Retry) else make_retry(retries))
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            # requests reads proxies, CA bundles and .netrc from the environment
            # on every request, a third of its CPU time per request here; one
            # server, one address: read them once.
            settings = session.merge_environment_settings(self.address, {}, None,
                                                          verify, cert)
            session.proxies.update(settings["proxies"])
            session.verify = settings["verify"]
            session.cert = settings["cert"]
            credentials = credentials or requests.utils.get_netrc_auth(self.address)
            session.trust_env = False
        session.auth = auth or credentials or session.auth
        session.headers.update(headers or {})
        self._session = session
        self._generation = None
        self._generation_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._request_count = 0
        if generation is not None:
            self._generation = GENERATIONS[str(generation)](self)

    def __repr__(self):
        # The address never holds a password (split_credentials); auth is not shown.
        return "Connection(%r)" % self.address

    def close(self):
        # type: () -> None
        """Close the keep-alive connections (unless the session was given)."""
        if self._owns_session:
            self._session.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()

    @property
    def request_count(self):
        # type: () -> int
        """HTTP requests sent so far, not counting automatic retries."""
        with self._count_lock:
            return self._request_count

    # HTTP

    def request(self, method, path, document=_NO_BODY, expected=(200,),
                not_found=NotFound, timeout=None):
        # type: (str, str, Any, Sequence[int], Type[NotFound], Any) -> Reply
        """Send one request; return the ``Reply`` if its status is ``expected``.

        :raises NetworkError: no answer (after retries).
        :raises NotFound: 404 (``not_found`` is the class to raise).
        :raises BadRequest: another 4xx.
        :raises ServerError: 5xx.
        :raises ProtocolError: any other unexpected status.
        """
        url = self.address + path
        headers, data = {}, None
        if document is not _NO_BODY:
            headers["Content-Type"] = "application/json"
            data = json.dumps(document)
        started = monotonic()
        with self._count_lock:
            self._request_count += 1
        try:
            response = self._send(method, url, data, headers,
                                  timeout if timeout is not None else self.timeout)
        except requests.exceptions.ConnectTimeout as error:
            raise self._network_error(NetworkError, "could not connect", method, url, error)
        except requests.exceptions.ReadTimeout as error:
            raise self._network_error(ResponseTimeout, "no answer in time", method, url, error)
        except requests.exceptions.SSLError as error:
            raise self._network_error(NetworkError, "TLS failed", method, url, error)
        except requests.exceptions.ConnectionError as error:
            if _is_read_timeout(error):
                # Read timeouts that used up the retries come wrapped in a
                # ConnectionError (requests' MaxRetryError handling).
                raise self._network_error(ResponseTimeout, "no answer in time", method,
                                          url, error)
            raise self._network_error(NetworkError, "connection failed", method, url, error)
        except requests.exceptions.RequestException as error:
            raise self._network_error(NetworkError, "request failed", method, url, error)
        reply = self._read_reply(method, url, response)
        log.debug("%s %s -> %d (%.1f ms)", method, url, reply.status,
                  (monotonic() - started) * 1000)
        if reply.status not in expected:
            raise self._status_error(reply, not_found)
        return reply

    def _send(self, method, url, data, headers, timeout):
        """Send through the session, or straight to its adapter when that is the same.

        ``Session.request`` merges settings, cookies and hooks on every call,
        which costs a worker a quarter of its CPU per request. A session this
        connection made has nothing to merge (settings are read once, no
        hooks): until the server sets a cookie, the request is built here
        and handed to the adapter, as the session would have built it.
        """
        session = self._session
        if self._adapter_for_sending is None or session.cookies:
            return session.request(method, url, data=data, headers=headers,
                                   allow_redirects=False, timeout=timeout, stream=True)
        prepared = requests.PreparedRequest()
        prepared.method = method
        prepared.url = url
        prepared.headers = session.headers.copy()
        prepared.headers.update(headers)
        if data is not None:
            prepared.body = data.encode("utf-8")
            prepared.headers["Content-Length"] = str(len(prepared.body))
        if session.auth is not None:
            prepared.prepare_auth(session.auth, url)
        response = self._adapter_for_sending.send(
            prepared, stream=True, timeout=timeout, verify=session.verify,
            cert=session.cert, proxies=session.proxies)
        if "set-cookie" in response.headers:
            requests.cookies.extract_cookies_to_jar(session.cookies, prepared, response.raw)
        return response

    def _read_reply(self, method, url, response):
        """The whole answer; ``ProtocolError`` if its body was cut short.

        urllib3 2 notices a short body itself, urllib3 1.26 does not: compare
        with Content-Length so that both report it alike.
        """
        try:
            body = response.content
        except requests.exceptions.RequestException as error:
            response.close()
            if _is_read_timeout(error):
                raise self._network_error(ResponseTimeout, "no answer in time", method,
                                          url, error)
            raise ProtocolError("the answer was cut short: %s %s answered %d: %s" % (
                method, url, response.status_code, _cause(error)), method=method, url=url,
                status_code=response.status_code)
        reply = Reply(method, url, response.status_code, response.headers, body)
        try:
            length = int(response.headers.get("Content-Length", ""))
        except ValueError:  # absent, or no number: "\xb2" passes isdigit(), not int()
            length = None
        if (length is not None and length > len(body) and method != "HEAD" and
                response.status_code not in (204, 304) and
                not response.headers.get("Content-Encoding")):
            raise reply.error(ProtocolError, "the answer was cut short (%d of %s bytes)"
                              % (len(body), length))
        return reply

    @staticmethod
    def _network_error(error_class, summary, method, url, cause):
        return error_class("%s: %s %s: %s" % (summary, method, url, _cause(cause)),
                           method=method, url=url)

    def _status_error(self, reply, not_found):
        status = reply.status
        if status == 404:
            try:
                reply.document()
            except ProtocolError:
                # Flask's HTML 404: the route, not the resource, is missing.
                return reply.error(ProtocolError, "no such endpoint (is %s the root of "
                                   "a TopChef server?)" % self.address)
            return reply.error(not_found, "not found")
        if 300 <= status < 400:
            # Python 2 gives header values as bytes, which may not be ASCII.
            return reply.error(ProtocolError, "unexpected redirect to %s" % redact_url(
                to_text(reply.headers.get("Location", "nowhere"))))
        if 400 <= status < 500:
            return reply.error(BadRequest, "the server refused the request")
        if status >= 500:
            return reply.error(ServerError, "the server failed")
        return reply.error(ProtocolError, "unexpected status")

    # The server generation (spec section 4)

    @property
    def generation(self):
        # type: () -> str
        """``"2016"`` or ``"2017"``, asked of the server once."""
        return self._adapter.name

    @property
    def _adapter(self):
        if self._generation is None:
            with self._generation_lock:
                if self._generation is None:
                    self._generation = GENERATIONS[self._detect_generation()](self)
        return self._generation

    def _detect_generation(self):
        reply = self.request("GET", "/")
        document = reply.document()
        data, meta = (document.get("data"), document.get("meta")) if isinstance(
            document, dict) else (None, None)
        if isinstance(meta, dict) and "author" in meta and "links" not in document:
            generation = "2016"
        elif isinstance(data, dict) and "maintainer_name" in data and "links" in document:
            generation = "2017"
        else:
            raise reply.error(ProtocolError, "this is not a TopChef server of a known "
                              "generation (GET / has the shape of neither)")
        log.info("%s speaks the %s TopChef API", self.address, generation)
        return generation

    def server_info(self):
        # type: () -> Dict[str, Any]
        """The server's self-description from ``GET /`` (author, version, ...)."""
        reply = self.request("GET", "/")
        document = reply.document()
        if not isinstance(document, dict):
            raise reply.error(ProtocolError, "the answer is not a JSON object")
        meta, data = document.get("meta"), document.get("data")
        info = dict(meta) if self.generation == "2016" and isinstance(meta, dict) else {}
        info.update(data if isinstance(data, dict) else {})
        return info

    def is_alive(self):
        # type: () -> bool
        """Whether the server answers ``GET /`` with 200; never raises."""
        try:
            self.request("GET", "/")
            return True
        except TopChefError:
            return False

    # Services

    def list_services(self):
        # type: () -> List[Service]
        """Every service, as ``Service`` objects without schemas."""
        return self._adapter.list_services()

    def get_service(self, service_id):
        # type: (Union[str, uuid.UUID]) -> Service
        """One service, with its schemas.

        :raises ServiceNotFound: no service has this id.
        """
        service_id = canonical_id(service_id, ServiceNotFound)
        return self._adapter.get_service(service_id)

    def register_service(self, name, description, job_registration_schema,
                         job_result_schema=None, timeout=None):
        # type: (str, str, Dict[str, Any], Optional[Dict[str, Any]], Optional[int]) -> Service
        """Create a service and return it.

        :param timeout: seconds without heartbeat before the service counts
            as timed out; 2017 servers only (2016 servers fix it at 30).
        """
        if timeout is not None and (isinstance(timeout, bool) or
                                    not isinstance(timeout, six.integer_types) or
                                    timeout <= 0):
            raise ValueError("timeout must be a whole number of seconds above 0, "
                             "not %r" % (timeout,))
        for label, schema in (("job_registration_schema", job_registration_schema),
                              ("job_result_schema", job_result_schema)):
            if schema is not None and not isinstance(schema, dict):
                raise ValueError("%s must be a dict (a JSON Schema), not %s"
                                 % (label, type(schema).__name__))
        return self._adapter.register_service(
            name, description, job_registration_schema,
            job_result_schema if job_result_schema is not None else {"type": "object"},
            timeout)

    def heartbeat(self, service_id, timeout=None):
        # type: (Union[str, uuid.UUID], Any) -> None
        """Tell the server the service's worker is alive.

        :raises ServiceNotFound: no service has this id.
        """
        self.request("PATCH", "/services/%s" % canonical_id(service_id, ServiceNotFound),
                     not_found=ServiceNotFound, timeout=timeout)

    def set_availability(self, service_id, available):
        # type: (Union[str, uuid.UUID], bool) -> Optional[Service]
        """Set a 2017 service's ``is_available`` flag; return the service.

        2016 servers have no such flag: nothing is sent and None is returned.
        """
        service_id = canonical_id(service_id, ServiceNotFound)
        return self._adapter.set_availability(service_id, bool(available))

    # Jobs

    def list_jobs(self, service_id):
        # type: (Union[str, uuid.UUID]) -> List[Job]
        """Every job of a service, oldest first (2016: without parameters)."""
        service_id = canonical_id(service_id, ServiceNotFound)
        reply = self.request("GET", "/services/%s/jobs" % service_id,
                             not_found=ServiceNotFound)
        return [self._adapter.job(item, service_id, reply) for item in reply.data(list)]

    def submit_job(self, service_id, parameters):
        # type: (Union[str, uuid.UUID], Dict[str, Any]) -> Job
        """Submit a job; it is never retried, so never submitted twice.

        The server validates ``parameters``; see ``producer.TopChef.submit``
        for local validation first.

        :raises ValidationError: the server refused the parameters.
        :raises ServiceNotFound: no service has this id.
        """
        if not isinstance(parameters, dict):
            raise ValueError("job parameters must be a dict, not %s"
                             % type(parameters).__name__)
        service_id = canonical_id(service_id, ServiceNotFound)
        return self._adapter.submit_job(service_id, parameters)

    def get_job(self, job_id):
        # type: (Union[str, uuid.UUID]) -> Job
        """One job, with parameters and result.

        :raises JobNotFound: no job has this id.
        """
        job_id = canonical_id(job_id, JobNotFound)
        reply = self.request("GET", "/jobs/%s" % job_id, not_found=JobNotFound)
        return self._adapter.job(reply.data(dict), reply=reply)

    def get_queue(self, service_id):
        # type: (Union[str, uuid.UUID]) -> List[Job]
        """The REGISTERED jobs of a service as the server lists them.

        2016: all of them, without parameters; 2017: at most ten, with them.
        """
        service_id = canonical_id(service_id, ServiceNotFound)
        return self._adapter.get_queue(service_id)

    def next_job(self, service_id):
        # type: (Union[str, uuid.UUID]) -> Optional[Job]
        """The next REGISTERED job of a service, with parameters, or None."""
        service_id = canonical_id(service_id, ServiceNotFound)
        return self._adapter.next_job(service_id)

    def update_job(self, job, status, result=None):
        # type: (Job, str, Optional[Dict[str, Any]]) -> Job
        """Set a job's status (and result); return the job as the server has it.

        ``job`` is a ``Job``: 2016 servers need its parameters sent back,
        and the job is fetched first if they are unknown.
        """
        canonical_id(job.id, JobNotFound)
        if status not in self._adapter.statuses:
            raise ValueError("a %s server knows the statuses %s, not %r" % (
                self.generation, ", ".join(self._adapter.statuses), status))
        if result is not None and not isinstance(result, dict):
            raise ValueError("a job result must be a dict, not %s" % type(result).__name__)
        return self._adapter.update_job(job, status, result)

    def fail_job(self, job, error, result_schema=None):
        # type: (Job, Dict[str, Any], Optional[Schema]) -> Job
        """Mark a job as failed, with ``error`` (a dict) in its result.

        2017: status ERROR, and ``{"error": error}`` as results if
        ``result_schema`` (a ``Schema``, when known) allows it. 2016, which
        has no ERROR status: status COMPLETED with ``{"error": error}`` as
        the result, so the job is not run again and its failure is on record.
        """
        canonical_id(job.id, JobNotFound)
        return self._adapter.fail_job(job, {ERROR_KEY: error}, result_schema)


def _is_read_timeout(error):
    """Whether a requests exception wraps a read timeout."""
    reason = error
    for _ in range(5):
        if isinstance(reason, (urllib3.exceptions.ReadTimeoutError, socket.timeout)):
            return True
        inner = getattr(reason, "reason", None) or (
            reason.args[0] if getattr(reason, "args", None) and
            isinstance(reason.args[0], Exception) else None)
        if inner is None or inner is reason:
            return False
        reason = inner
    return False


def _cause(error):
    """The innermost reason of a requests exception, for a message."""
    reason = error
    for _ in range(5):
        inner = getattr(reason, "reason", None) or (
            reason.args[0] if getattr(reason, "args", None) and
            isinstance(reason.args[0], Exception) else None)
        if inner is None or inner is reason:
            break
        reason = inner
    return "%s: %s" % (type(reason).__name__, reason)


class Generation(object):
    """What both API generations share; subclasses hold their differences."""

    name = None  # type: Optional[str]
    statuses = ()  # type: Tuple[str, ...]

    def __init__(self, connection):
        self.connection = connection

    def request(self, *args, **kwargs):
        return self.connection.request(*args, **kwargs)

    def list_services(self):
        reply = self.request("GET", "/services")
        return [self.service(item, reply) for item in reply.data(list)]

    def set_availability(self, service_id, available):
        return None

    #: The types of the fields the models rely on, where the server gives them.
    job_fields = (("id", six.string_types), ("status", six.string_types),
                  ("parameters", dict), ("date_submitted", six.string_types))
    service_fields = (("id", six.string_types), ("job_registration_schema", dict),
                      ("job_result_schema", dict), ("timeout", six.integer_types + (float,)))

    @staticmethod
    def checked(document, what, fields, reply):
        """``document`` if it is an object with an id and fields of the right types.

        Otherwise ``ProtocolError``, naming the exchange ``reply`` came from.
        """
        if not isinstance(document, dict) or not isinstance(
                document.get("id"), six.string_types):
            problem = "a %s in the answer has no id" % what
        else:
            wrong = [name for name, kind in fields
                     if document.get(name) is not None and not isinstance(document[name], kind)]
            if not wrong:
                return document
            problem = "a %s in the answer has a %s of the wrong type" % (what, wrong[0])
        if reply is not None:
            raise reply.error(ProtocolError, problem)
        raise ProtocolError("%s: %s" % (problem, excerpt(json.dumps(document))))

    def job(self, document, service_id=None, reply=None):
        document = self.checked(document, "job", self.job_fields, reply)
        return Job(document["id"], document.get("status"), document.get("parameters"),
                   document.get(self.result_field), document.get("date_submitted"),
                   service_id)


class Generation2016(Generation):
    """The September 2016 server."""

    name = "2016"
    statuses = ("REGISTERED", "WORKING", "COMPLETED")
    result_field = "result"
    service_timeout = 30  # fixed and never reported (spec section 2.4)

    def service(self, document, reply=None):
        document = self.checked(document, "service", self.service_fields, reply)
        return Service(document["id"], document.get("name"), document.get("description"),
                       document.get("job_registration_schema"),
                       document.get("job_result_schema"), self.service_timeout,
                       document.get("has_timed_out"))

    def get_service(self, service_id):
        try:
            reply = self.request("GET", "/services/%s" % service_id,
                                 not_found=ServiceNotFound)
        except ServerError as error:
            # An unknown service is a 500 here (spec section 6 quirk 1): look in the list.
            if error.status_code == 500 and all(
                    service.id != service_id for service in self.list_services()):
                raise ServiceNotFound("service %s does not exist (the server answered "
                                      "500, and the service list lacks it): %s"
                                      % (service_id, error), method=error.method,
                                      url=error.url, status_code=error.status_code,
                                      body=error.body)
            raise
        return self.service(reply.data(dict), reply)

    def register_service(self, name, description, registration_schema, result_schema,
                         timeout):
        if timeout is not None and timeout != self.service_timeout:
            log.warning("a 2016 server fixes every service's timeout at %d s; "
                        "timeout=%s is ignored", self.service_timeout, timeout)
        reply = self.request("POST", "/services", {
            "name": name, "description": description,
            "job_registration_schema": registration_schema,
            "job_result_schema": result_schema}, expected=(201,))
        return self.service(reply.checked(reply.data(dict).get("service_details"), dict),
                            reply)

    def submit_job(self, service_id, parameters):
        try:
            reply = self.request("POST", "/services/%s/jobs" % service_id,
                                 {"parameters": parameters}, expected=(201,),
                                 not_found=ServiceNotFound)
        except ServerError as error:
            if error.status_code != 500:
                raise
            # Invalid parameters are a 500 here (spec section 6 quirk 6): check them.
            schema = self.connection.get_service(service_id).job_registration_schema
            try:
                Schema(schema or {}, "parameters").validate(parameters)
            except ValidationError as invalid:
                raise ValidationError(
                    "%s (which is why %s)" % (invalid.message, error.message),
                    invalid.path, invalid.schema_path, invalid.errors,
                    method=error.method, url=error.url, status_code=error.status_code,
                    body=error.body)
            except Exception:
                # The stored schema defeats jsonschema (a "$schema" that is no
                # string, a "$ref" to nowhere): the 500 is all there is to say.
                log.debug("cannot check parameters against %r", schema, exc_info=True)
            raise error
        details = reply.checked(reply.data(dict).get("job_details"), dict)
        return self.job(details, service_id, reply)

    def get_queue(self, service_id):
        reply = self.request("GET", "/services/%s/queue" % service_id,
                             not_found=ServiceNotFound)
        return [self.job(item, service_id, reply) for item in reply.data(list)]

    def next_job(self, service_id):
        for job in self.get_queue(service_id):
            try:
                found = self.connection.get_job(job.id)
            except JobNotFound:
                continue
            found.service_id = service_id
            return found
        return None

    def update_job(self, job, status, result):
        # PUT replaces parameters and result: fetch whichever is unknown, or
        # the job loses it (a submitted job's result is unknown, not empty).
        service_id = job.service_id
        if job.parameters is None or (result is None and job.result is None):
            job = self.connection.get_job(job.id)
        if result is None:
            result = job.result if isinstance(job.result, dict) else {}
        # PUT replaces all three fields; "result" is singular (spec section 2.5).
        reply = self.request("PUT", "/jobs/%s" % job.id, {
            "status": status, "result": result, "parameters": job.parameters},
            not_found=JobNotFound)
        updated = self.job(reply.checked(reply.data(dict).get("job_schema"), dict),
                           reply=reply)
        updated.service_id = service_id
        return updated

    def fail_job(self, job, error_result, result_schema):
        return self.update_job(job, COMPLETED, error_result)


class Generation2017(Generation):
    """The November 2017 server, version 0.2."""

    name = "2017"
    statuses = ("REGISTERED", "WORKING", "COMPLETED", "ERROR")
    result_field = "results"

    def service(self, document, reply=None):
        document = self.checked(document, "service", self.service_fields, reply)
        return Service(document["id"], document.get("name"), document.get("description"),
                       document.get("job_registration_schema"),
                       document.get("job_result_schema"), document.get("timeout"),
                       document.get("has_timed_out"), document.get("is_service_available"))

    def get_service(self, service_id):
        reply = self.request("GET", "/services/%s" % service_id, not_found=ServiceNotFound)
        return self.service(reply.data(dict), reply)

    def register_service(self, name, description, registration_schema, result_schema,
                         timeout):
        reply = self.request("POST", "/services", {
            "name": name, "description": description,
            "job_registration_schema": registration_schema,
            "job_result_schema": result_schema}, expected=(201,))
        # The body has no id, only the Location header (spec section 6 quirk 25).
        location = reply.headers.get("Location") or ""
        service_id = location.rstrip("/").rsplit("/", 1)[-1]
        try:
            service_id = canonical_id(service_id, ServiceNotFound)
        except ServiceNotFound:
            raise reply.error(ProtocolError, "the new service's Location header %r holds "
                              "no id" % location)
        if timeout is not None:
            return self._change_service(service_id, {"timeout": timeout})
        # The server stores both schemas verbatim, so nothing needs asking.
        return Service(service_id, name, description, registration_schema, result_schema,
                       timeout=30, has_timed_out=False, is_available=False)

    def _change_service(self, service_id, changes):
        reply = self.request("PATCH", "/services/%s" % service_id, changes,
                             not_found=ServiceNotFound)
        return self.service(reply.data(dict), reply)

    def set_availability(self, service_id, available):
        return self._change_service(service_id, {"is_available": available})

    def submit_job(self, service_id, parameters):
        try:
            reply = self.request("POST", "/services/%s/jobs" % service_id,
                                 {"parameters": parameters}, expected=(201,),
                                 not_found=ServiceNotFound)
        except BadRequest as error:
            raise self._validation_error(error, "parameters")
        return self.job(reply.data(dict), service_id, reply)

    @staticmethod
    def _validation_error(error, what):
        """A 400 for a JSON Schema violation becomes a ``ValidationError``."""
        if "JSONSchema Validation Error" not in error.message:
            return error
        return ValidationError("invalid %s (the server says): %s" % (what, error.message),
                               method=error.method, url=error.url,
                               status_code=error.status_code, body=error.body)

    def get_queue(self, service_id):
        reply = self.request("GET", "/services/%s/queue" % service_id, expected=(200, 204),
                             not_found=ServiceNotFound)
        if reply.status == 204:
            return []  # an empty queue is an empty, non-JSON 204 (spec section 6 quirk 19)
        return [self.job(item, service_id, reply) for item in reply.data(list)]

    def next_job(self, service_id):
        reply = self.request("GET", "/services/%s/jobs/next" % service_id,
                             expected=(200, 204), not_found=ServiceNotFound)
        if reply.status == 204:
            return None
        return self.job(reply.data(dict), service_id, reply)

    def update_job(self, job, status, result):
        change = {"status": status}
        if result is not None:
            change["results"] = result
        try:
            reply = self.request("PATCH", "/jobs/%s" % job.id, change, not_found=JobNotFound)
        except BadRequest as error:
            raise self._validation_error(error, "result")
        # A bare job, not an envelope (spec section 6 quirk 24).
        return self.job(reply.checked(reply.document(), dict), job.service_id, reply)

    def fail_job(self, job, error_result, result_schema):
        if result_schema is not None and not result_schema.is_valid(error_result):
            return self.update_job(job, ERROR, None)
        try:
            return self.update_job(job, ERROR, error_result)
        except ValidationError:
            # The service's result schema has no room for an error report.
            return self.update_job(job, ERROR, None)


GENERATIONS = {"2016": Generation2016, "2017": Generation2017}
