"""HTTP exchanges with one server: the only module that imports requests.

``Transport`` owns a keep-alive ``requests.Session`` with a finite timeout on every
request and bounded, jittered retries of transient failures. It turns each exchange into
a ``Reply`` and each failure into one of the library's exceptions, whose messages never
show a password. What the replies mean is for ``api.Connection`` and the adapters.
"""
import json
import logging
import random
import socket
import threading

import requests
import requests.adapters
import requests.cookies
import requests.hooks
import six
import urllib3.exceptions
from six.moves.urllib.parse import unquote, urlsplit, urlunsplit
from urllib3.util.retry import Retry

from topchef_client import defaults, options
from topchef_client.compat import monotonic, to_text
from topchef_client.documents import json_bytes
from topchef_client.exceptions import (
    BadRequest, NetworkError, NotFound, ProtocolError, ResponseTimeout, ServerError,
    excerpt)

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Dict, Optional, Sequence, Tuple, Type, Union  # noqa: F401

log = logging.getLogger(__name__)

#: Statuses worth retrying: a proxy or a restarting server (never TopChef's own 500s).
RETRY_STATUSES = frozenset([502, 503, 504])
#: Methods retried after a failure that may have reached the server. POST is
#: not among them: a submitted job must never be submitted twice. TopChef's
#: PUT and PATCH set state, so repeating them is harmless.
IDEMPOTENT_METHODS = frozenset(["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"])
#: ``Transport.send``'s marker for "no body" (``None`` is the JSON ``null``).
NO_BODY = object()


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
    settings = dict(total=retries, connect=retries, read=retries, status=retries,
                    redirect=0, status_forcelist=RETRY_STATUSES,
                    backoff_factor=backoff_factor, raise_on_status=False,
                    respect_retry_after_header=False)  # type: Dict[str, Any]
    # allowed_methods exists from urllib3 1.26 on, which requirements.txt asks for.
    return JitteredRetry(allowed_methods=IDEMPOTENT_METHODS, **settings)


def split_credentials(address):
    # type: (str) -> Tuple[str, Optional[Tuple[str, str]]]
    """``http://user:pw@host/`` -> ``("http://host", ("user", "pw"))``.

    The password then lives only in the session's auth, never in a URL that
    a message or a log line could show.
    """
    if not isinstance(address, six.string_types):
        raise TypeError("address must be the TopChef server's URL as a string, such as "
                        "http://localhost:5000, not %s" % options.describe(address))
    try:
        parts = urlsplit(address)  # type: Any
        port = parts.netloc.rsplit("@", 1)[-1].rpartition("]")[2].partition(":")[2]
        if port and not (port.isdigit() and 0 < int(port) < 65536):
            parts = None  # Python 2.7's urlsplit lets such a port pass
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("address must be an http:// or https:// URL such as "
                         "http://localhost:5000, not %s"
                         % options.describe(redact_url(address), with_type=False))
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
        password = parts.password
    except ValueError:
        return "<unparseable URL>"
    if password is None:
        if "@" in url.split("?", 1)[0].split("#", 1)[0]:
            # Userinfo that does not parse as such ("user:pw@host:5000", with
            # no "//"; a user without a password): hide all before the host.
            scheme, sep, rest = url.partition("//")
            if not sep:
                scheme, rest = "", url
            return scheme + sep + "***@" + rest.rsplit("@", 1)[1]
        return url
    userinfo, host = parts.netloc.rsplit("@", 1)
    user = userinfo.split(":", 1)[0]
    return urlunsplit((parts.scheme, "%s:***@%s" % (user, host)) + tuple(parts[2:]))


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


class Transport(object):
    """Sends requests to one server and reads whole replies.

    The options are ``Connection``'s; see there.
    """

    def __init__(self, address, timeout=None, retries=defaults.DEFAULT_RETRIES, auth=None,
                 headers=None, verify=True, cert=None, session=None,
                 pool_size=defaults.DEFAULT_POOL_SIZE):
        # type: (str, Any, Union[int, Retry], Any, Optional[Dict[str, str]], Union[bool, str], Union[None, str, Tuple[str, str]], Optional[requests.Session], int) -> None
        self.address, credentials = split_credentials(address)
        self.timeout = options.http_timeout("timeout", timeout)
        if not isinstance(retries, Retry):
            retries = make_retry(options.whole_number("retries", retries, minimum=0))
        headers = options.text_mapping("headers", headers)
        verify, cert = options.tls_verify(verify), options.tls_cert(cert)
        if session is not None and not isinstance(session, requests.Session):
            raise TypeError("session must be a requests.Session, not %s"
                            % options.describe(session))
        pool_size = options.whole_number("pool_size", pool_size, minimum=1)
        self._owns_session = session is None
        if session is None:
            session = requests.Session()
            adapter = requests.adapters.HTTPAdapter(
                pool_connections=1, pool_maxsize=pool_size, max_retries=retries)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            # requests reads proxies, CA bundles and .netrc from the environment
            # on every request, a third of its CPU time per request here; one
            # server, one address: read them once.
            settings = session.merge_environment_settings(self.address, {}, None, verify, cert)
            session.proxies.update(settings["proxies"])
            session.verify = settings["verify"]
            session.cert = settings["cert"]
            credentials = credentials or requests.utils.get_netrc_auth(self.address)
            session.trust_env = False
        session.auth = auth or credentials or session.auth
        session.headers.update(headers)
        self.session = session
        # For requests made once (polls, heartbeats, a goodbye): see send().
        self._single_attempt = requests.adapters.HTTPAdapter(1, pool_size, max_retries=0)
        self._count_lock = threading.Lock()
        self._request_count = 0

    def __repr__(self):
        return "Transport(%r)" % self.address  # no password: see split_credentials

    def close(self):
        # type: () -> None
        """Close the keep-alive connections (unless the session was given)."""
        if self._owns_session:
            self.session.close()
            self._single_attempt.close()

    @property
    def request_count(self):
        # type: () -> int
        """HTTP requests sent so far, not counting automatic retries."""
        with self._count_lock:
            return self._request_count

    def send(self, method, path, document=NO_BODY, expected=(200,), not_found=NotFound,
             timeout=None, retry=True):
        # type: (str, str, Any, Sequence[int], Type[NotFound], Any, bool) -> Reply
        """Send one request; return the ``Reply`` if its status is ``expected``.

        :param document: the JSON body, if any.
        :param timeout: for this request instead of the transport's.
        :param retry: False makes this one attempt, whatever the retry policy
            (except with a session of the caller's, whose adapters decide).
        :raises NetworkError: no answer (after retries).
        :raises NotFound: 404 (``not_found`` is the class to raise).
        :raises BadRequest: another 4xx.
        :raises ServerError: 5xx.
        :raises ProtocolError: any other unexpected status.
        """
        url = self.address + path
        headers, body = {}, None
        if document is not NO_BODY:
            headers["Content-Type"] = "application/json"
            body = json_bytes(document, "the request body")
        started = monotonic()
        with self._count_lock:
            self._request_count += 1
        try:
            response = self._exchange(method, url, body, headers,
                                      timeout if timeout is not None else self.timeout, retry)
        except requests.exceptions.ConnectTimeout as error:
            raise network_error(NetworkError, "could not connect", method, url, error)
        except requests.exceptions.ReadTimeout as error:
            raise network_error(ResponseTimeout, "no answer in time", method, url, error)
        except requests.exceptions.SSLError as error:
            raise network_error(NetworkError, "TLS failed", method, url, error)
        except requests.exceptions.ConnectionError as error:
            if _is_read_timeout(error):
                # Read timeouts that used up the retries come wrapped in a
                # ConnectionError (requests' MaxRetryError handling).
                raise network_error(ResponseTimeout, "no answer in time", method, url, error)
            raise network_error(NetworkError, "connection failed", method, url, error)
        except requests.exceptions.RequestException as error:
            raise network_error(NetworkError, "request failed", method, url, error)
        reply = self._read_reply(method, url, response)
        log.debug("%s %s -> %d (%.1f ms)", method, url, reply.status,
                  (monotonic() - started) * 1000)
        if reply.status not in expected:
            raise self._status_error(reply, not_found)
        return reply

    def _exchange(self, method, url, body, headers, timeout, retry):
        """Send one request and return the response, after its response hooks ran.

        ``Session.request`` would merge settings, cookies and hooks and parse
        the URL on every call: a quarter of a worker's CPU per request. A
        session of this transport's has nothing to merge (settings are read
        once), so the request is prepared here and handed to the adapter; the
        hooks then run as ``Session.send`` runs them, as auth handlers such as
        ``HTTPDigestAuth`` need. A caller's own session gets ``Session.request``.
        """
        session = self.session
        if not self._owns_session:
            return session.request(method, url, data=body, headers=headers,
                                   allow_redirects=False, timeout=timeout, stream=True)
        prepared = requests.PreparedRequest()
        prepared.method = method
        prepared.url = url
        prepared.headers = session.headers.copy()
        prepared.headers.update(headers)
        prepared.hooks = {"response": []}
        if body is not None:
            prepared.body = body
            prepared.headers["Content-Length"] = str(len(body))
        if session.cookies:
            prepared.prepare_cookies(session.cookies)
        else:
            prepared._cookies = session.cookies  # where auth handlers keep theirs
        if session.auth is not None:
            prepared.prepare_auth(session.auth, url)
        settings = dict(stream=True, timeout=timeout, verify=session.verify,
                        cert=session.cert, proxies=session.proxies)
        adapter = session.get_adapter(url) if retry else self._single_attempt
        response = adapter.send(prepared, **settings)
        if prepared.hooks["response"]:
            response = requests.hooks.dispatch_hook("response", prepared.hooks, response,
                                                    **settings)
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
                raise network_error(ResponseTimeout, "no answer in time", method, url, error)
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


def network_error(error_class, summary, method, url, cause):
    """An exception of ``error_class`` for a request that got no usable answer."""
    return error_class("%s: %s %s: %s" % (summary, method, url, _cause(cause)),
                       method=method, url=url)


def _reasons(error):
    """A requests exception and the reasons it wraps, outermost first."""
    reason = error
    for _ in range(5):
        yield reason
        inner = getattr(reason, "reason", None) or (
            reason.args[0] if getattr(reason, "args", None) and
            isinstance(reason.args[0], Exception) else None)
        if inner is None or inner is reason:
            return
        reason = inner


def _is_read_timeout(error):
    """Whether a requests exception wraps a read timeout."""
    return any(isinstance(reason, (urllib3.exceptions.ReadTimeoutError, socket.timeout))
               for reason in _reasons(error))


def _cause(error):
    """The innermost reason of a requests exception, for a message (without a password)."""
    innermost = list(_reasons(error))[-1]
    return "%s: %s" % (type(innermost).__name__, innermost)
