"""``FaultProxy``: an HTTP/1.1 proxy on loopback that breaks requests on purpose.

It sits between a client and an upstream HTTP server (usually a
``LocalServer``) and, request by request, either forwards faithfully or
injects the fault of the first matching rule, so that a test can prove the
client survives a slow, silent, dropped, cut-short or lying server::

    from topchef_client.testing import LocalServer
    from topchef_client.testing.proxy import FaultProxy, Delay, Reset, Respond

    with LocalServer() as server, FaultProxy(server.url) as proxy:
        rule = proxy.add_rule(Respond(503), method="PATCH", times=3)
        proxy.add_rule(Reset(after_forwarding=True), path=r"/jobs$")
        ...                      # point the client at proxy.url
        proxy.go_down()          # connections refused, open ones reset
        proxy.come_up()          # back on the same port

Faults: ``Delay``, ``Hang``, ``Reset``, ``Truncate``, ``Respond``.

Each client connection gets a daemon thread and its own upstream
connection, both kept alive. What the upstream sends is relayed byte for
byte, so the client sees the upstream's own framing and ``Connection``
headers. Requests are relayed with their headers in order, except that a
chunked body is forwarded with a ``Content-Length`` and an
``Expect: 100-continue`` is answered by the proxy itself. Every response is
read whole before it is written to the client in one ``send`` call, which
is what lets ``Truncate`` and ``Reset`` choose what the client gets. There
is no TLS, no ``CONNECT`` and no protocol upgrade.

It needs nothing beyond the standard library and ``six``.
"""
import collections
import errno
import logging
import re
import select
import socket
import struct
import threading

import six
from six.moves import http_client
from six.moves.urllib.parse import urlsplit

from topchef_client.compat import monotonic

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Deque, List, Optional, Set  # noqa: F401


log = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT = 5.0  # seconds to open an upstream connection before a 502
DEFAULT_UPSTREAM_TIMEOUT = 60.0  # seconds to wait for an upstream answer before a 504
DEFAULT_MAX_RECORDED = 10000  # request records kept in FaultProxy.requests, newest last
JOIN_TIMEOUT = 2.0  # seconds go_down() and stop() wait, in all, for connection threads

# Seconds a blocked socket call waits before its thread checks whether to
# give up; shutdown() wakes readers at once, this is the fallback.
_SOCKET_SLICE = 0.25
# Seconds between checks while a fault holds a request back.
_HOLD_POLL = 0.02
# Seconds between checks of the accept loop for go_down() and stop().
_ACCEPT_POLL = 0.05

_MAX_LINE = 65536  # bytes in one request, status or header line
_MAX_HEAD = 262144  # bytes in a whole head
_RECV_SIZE = 65536
_BODYLESS_STATUSES = (204, 304)
# RFC 7231 4.2.2: a request that may be sent again when a kept-alive
# upstream connection turns out to have been closed before it answered.
_IDEMPOTENT_METHODS = frozenset(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"])
_CHUNK_SIZE = re.compile(br"^[0-9A-Fa-f]+$")
_DIGITS = re.compile(r"^[0-9]+$")
_RESET_ERRNOS = frozenset(getattr(errno, name) for name in (
    "ECONNRESET", "ECONNABORTED", "EPIPE", "ENOTCONN", "ESHUTDOWN", "EBADF")
    if hasattr(errno, name))

#: One request the proxy read: its method, its target as sent (path and any
#: query) and the ``name`` of the fault applied to it, or ``None``.
RequestRecord = collections.namedtuple("RequestRecord", "method path fault")


# --- faults ---------------------------------------------------------------------------

class Fault(object):
    """What the proxy does to a request that a rule selects; see the subclasses."""

    @property
    def name(self):
        """The name recorded in ``FaultProxy.requests``: the class name."""
        return type(self).__name__

    def _apply(self, exchange, request, rule):
        """Answer ``request`` (or not); return whether the connection stays open."""
        raise NotImplementedError

    def __repr__(self):
        return "%s()" % self.name


class Delay(Fault):
    """Wait ``seconds``, then forward normally.

    The request reaches the upstream after the wait even when the client has
    given up meanwhile, like a request stuck on a slow path; use it to exceed
    a client's read timeout.

    :param after_forwarding: forward at once and hold back the *answer*
        instead: the upstream has acted on the request while the client
        still waits to hear so.
    """

    def __init__(self, seconds, after_forwarding=False):
        # type: (float, bool) -> None
        if seconds < 0:
            raise ValueError("seconds must not be negative, not %r" % (seconds,))
        self.seconds = seconds
        self.after_forwarding = bool(after_forwarding)

    def _apply(self, exchange, request, rule):
        if not self.after_forwarding:
            exchange.wait(self.seconds)
            return exchange.relay(request)
        response = exchange.forward(request)
        exchange.wait(self.seconds)
        exchange.send(response.raw)
        return not response.close_client

    def __repr__(self):
        if self.after_forwarding:
            return "Delay(%r, after_forwarding=True)" % (self.seconds,)
        return "Delay(%r)" % (self.seconds,)


class Hang(Fault):
    """Never answer, and never forward, while the rule is in force.

    The request is held until its rule is removed, its ``seconds`` run out,
    the proxy stops or goes down, or the client hangs up; then the
    connection is closed. ``times`` only limits how many requests the rule
    catches: a caught request stays held after the count is reached.
    """

    def _apply(self, exchange, request, rule):
        exchange.hold(lambda: not rule.expired)
        return False


class Reset(Fault):
    """Close the client connection abruptly, with a TCP RST.

    :param after_forwarding: ``False`` resets before forwarding, so the
        upstream never sees the request; ``True`` forwards it, waits for the
        upstream's whole answer, discards it and then resets: the client
        cannot tell whether its write landed.
    """

    def __init__(self, after_forwarding=False):
        # type: (bool) -> None
        self.after_forwarding = bool(after_forwarding)

    def _apply(self, exchange, request, rule):
        if self.after_forwarding:
            exchange.forward(request)
        exchange.reset_on_close = True
        return False

    def __repr__(self):
        return "Reset(after_forwarding=%r)" % (self.after_forwarding,)


class Truncate(Fault):
    """Forward, send the client only the first ``keep_bytes`` bytes of the raw
    response (status line, headers and body), then close the connection.
    """

    def __init__(self, keep_bytes):
        # type: (int) -> None
        if keep_bytes < 0:
            raise ValueError("keep_bytes must not be negative, not %r" % (keep_bytes,))
        self.keep_bytes = int(keep_bytes)

    def _apply(self, exchange, request, rule):
        response = exchange.forward(request)
        if self.keep_bytes:
            exchange.send(response.raw[:self.keep_bytes])
        return False

    def __repr__(self):
        return "Truncate(%r)" % (self.keep_bytes,)


class Respond(Fault):
    """Answer without forwarding: a 503 storm, an HTML 502 page, garbage JSON...

    :param status: the status code.
    :param body: the body, bytes or text (encoded as UTF-8); dropped for
        ``HEAD`` requests.
    :param headers: a dict or a list of ``(name, value)`` pairs, sent as
        given. A ``Content-Length`` here replaces the true one, to lie about
        the length; a ``Connection: close`` here closes the connection.
    :param content_type: the ``Content-Type``, or ``None`` to send none
        (beyond any in ``headers``).
    """

    def __init__(self, status, body=b"", headers=None, content_type=None):
        self.status = int(status)
        if isinstance(body, six.text_type):
            body = body.encode("utf-8")
        self.body = body
        if self.body and (self.status < 200 or self.status in _BODYLESS_STATUSES):
            raise ValueError("a %d response cannot have a body" % self.status)
        if headers is None:
            headers = []
        elif hasattr(headers, "items"):
            headers = list(headers.items())
        self.headers = [(str(name), str(value)) for name, value in headers]
        self.content_type = content_type
        self.closes = "close" in _tokens(self.headers, "connection")

    def render(self, method, close=False):
        """The raw response to a ``method`` request; ``close`` adds ``Connection: close``."""
        lines = ["HTTP/1.1 %d %s" % (self.status, _reason(self.status))]
        if self.content_type is not None:
            lines.append("Content-Type: %s" % self.content_type)
        lines.extend("%s: %s" % header for header in self.headers)
        names = set(name.lower() for name, value in self.headers)
        bodyless = self.status < 200 or self.status in _BODYLESS_STATUSES
        if not bodyless and "content-length" not in names:
            lines.append("Content-Length: %d" % len(self.body))
        if close and not self.closes:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if bodyless or method.upper() == "HEAD":
            return head
        return head + self.body

    def _apply(self, exchange, request, rule):
        exchange.send(self.render(request.method, close=request.close))
        return not (request.close or self.closes)

    def __repr__(self):
        return "Respond(%d, %r)" % (self.status, self.body[:40])


# --- rules ----------------------------------------------------------------------------

class Rule(object):
    """Which requests get which fault, and for how long; made by ``FaultProxy.add_rule``.

    ``hits`` counts the requests the rule has affected.
    """

    def __init__(self, proxy, fault, method=None, path=None, times=None, seconds=None):
        if not isinstance(fault, Fault):
            raise TypeError("fault must be a Fault such as Delay(1), not %r" % (fault,))
        if times is not None and times < 0:
            raise ValueError("times must not be negative, not %r" % (times,))
        if seconds is not None and seconds < 0:
            raise ValueError("seconds must not be negative, not %r" % (seconds,))
        self._proxy = proxy
        self.fault = fault
        self.method = method.upper() if method else None
        self.path = path
        self._path_regex = re.compile(path) if path is not None else None
        self.times = times
        self.seconds = seconds
        self.expires_at = monotonic() + seconds if seconds is not None else None
        self.hits = 0
        self.removed = False
        # clear_rules() moves the proxy to a new epoch, which also ends the
        # rules that have used up their ``times`` and left the list.
        self._epoch = proxy._epoch

    @property
    def expired(self):
        """Whether the rule was removed or its ``seconds`` have run out."""
        return (self.removed or self._epoch != self._proxy._epoch
                or (self.expires_at is not None and monotonic() >= self.expires_at))

    @property
    def active(self):
        """Whether the rule still selects requests: not expired, ``times`` not used up."""
        return not self.expired and (self.times is None or self.hits < self.times)

    def matches(self, method, path):
        # type: (str, str) -> bool
        """Whether a request with this method and target falls under the rule."""
        if self.method is not None and method.upper() != self.method:
            return False
        return self._path_regex is None or self._path_regex.search(path) is not None

    def remove(self):
        # type: () -> None
        """Stop applying the rule and release the requests it holds (``Hang``)."""
        self._proxy._remove_rule(self)

    def __repr__(self):
        return "Rule(%r, method=%r, path=%r, times=%r, seconds=%r, hits=%d)" % (
            self.fault, self.method, self.path, self.times, self.seconds, self.hits)


# --- the proxy ------------------------------------------------------------------------

class FaultProxy(object):
    """An HTTP/1.1 proxy in front of ``upstream`` that injects faults by rule.

    :param upstream: the base URL of the server to forward to, such as
        ``LocalServer().url``; only ``http`` and no path.
    :param host: the address to listen on.
    :param port: the port to listen on; ``0`` picks a free one (see ``url``),
        which ``come_up()`` and a later ``start()`` keep.
    :param connect_timeout: seconds to open an upstream connection; the
        client gets a 502 when that fails.
    :param upstream_timeout: seconds to wait for the upstream's answer; the
        client gets a 504 after that.
    :param max_recorded: how many requests ``requests`` remembers.

    Rules are tried in the order added; the first active one that matches a
    request applies, otherwise the request is forwarded. Rules may be added
    and removed while requests flow.
    """

    def __init__(self, upstream, host="127.0.0.1", port=0,
                 connect_timeout=DEFAULT_CONNECT_TIMEOUT,
                 upstream_timeout=DEFAULT_UPSTREAM_TIMEOUT,
                 max_recorded=DEFAULT_MAX_RECORDED):
        # type: (str, str, int, float, float, int) -> None
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname or parts.path not in ("", "/"):
            raise ValueError("upstream must look like http://HOST:PORT, not %r" % (upstream,))
        self.upstream = upstream.rstrip("/")
        self.upstream_address = (parts.hostname, parts.port or 80)
        self.host = host
        self.port = int(port)
        self.connect_timeout = connect_timeout
        self.upstream_timeout = upstream_timeout
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._started = False
        self._listener = None
        self._accept_thread = None
        self._connections = set()  # type: Set[Any]
        self._rules = []  # type: List[Rule]
        self._epoch = 0
        self._records = collections.deque(maxlen=max_recorded)  # type: Deque[RequestRecord]
        self._request_count = 0
        self._connection_count = 0
        self._upstream_connection_count = 0

    # Life cycle

    @property
    def url(self):
        # type: () -> str
        """The base URL, e.g. ``http://127.0.0.1:8000``, without a trailing slash."""
        if not self._started:
            raise RuntimeError("the proxy is not running: call start() first")
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "http://%s:%d" % (host, self.port)

    @property
    def is_up(self):
        # type: () -> bool
        """Whether the proxy accepts connections (started and not gone down)."""
        with self._lock:
            return self._listener is not None

    def start(self):
        # type: () -> FaultProxy
        """Listen and serve in daemon threads; return ``self``."""
        with self._lock:
            if self._started:
                return self
            self._stopping.clear()
            self._listen()
            self._started = True
        log.info("fault proxy listening on %s for %s", self.url, self.upstream)
        return self

    def stop(self):
        # type: () -> None
        """Stop listening, close every connection and release held requests.

        Returns once the connection threads have finished, or after
        ``JOIN_TIMEOUT`` seconds.
        """
        with self._lock:
            if not self._started:
                return
            self._started = False
            self._stopping.set()
        self._drop_connections(reset=False)

    def go_down(self):
        # type: () -> None
        """Refuse new connections (the port is closed) and reset every open one."""
        self._drop_connections(reset=True)

    def come_up(self):
        # type: () -> None
        """Accept connections again, on the same port."""
        with self._lock:
            if not self._started:
                raise RuntimeError("the proxy is not running: call start() first")
            if self._listener is None:
                self._listen()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def __repr__(self):
        where = self.url if self._started else "stopped"
        return "FaultProxy(%r, %s)" % (self.upstream, where)

    # Rules

    def add_rule(self, fault, method=None, path=None, times=None, seconds=None):
        # type: (Fault, Optional[str], Optional[str], Optional[int], Optional[float]) -> Rule
        """Apply ``fault`` to matching requests; return the ``Rule``.

        :param fault: a ``Delay``, ``Hang``, ``Reset``, ``Truncate`` or ``Respond``.
        :param method: the request method (any case), or ``None`` for any.
        :param path: a regular expression searched in the request target (the
            path and any query string as sent), or ``None`` for any.
        :param times: affect only the next ``times`` matching requests.
        :param seconds: stay in force this many seconds from now.
        """
        with self._lock:
            rule = Rule(self, fault, method, path, times, seconds)
            self._rules.append(rule)
        return rule

    def clear_rules(self):
        # type: () -> None
        """Remove every rule, releasing the requests that they hold."""
        with self._lock:
            rules, self._rules = self._rules, []
            self._epoch += 1
            for rule in rules:
                rule.removed = True

    @property
    def rules(self):
        """The active rules, in the order tried."""
        with self._lock:
            return [rule for rule in self._rules if rule.active]

    def _remove_rule(self, rule):
        with self._lock:
            rule.removed = True
            if rule in self._rules:
                self._rules.remove(rule)

    def _select(self, method, path):
        """Record a request and return the rule that applies to it, if any."""
        with self._lock:
            self._rules = [rule for rule in self._rules if rule.active]
            chosen = None
            for rule in self._rules:
                if rule.matches(method, path):
                    chosen = rule
                    rule.hits += 1
                    break
            self._request_count += 1
            self._records.append(RequestRecord(
                method, path, chosen.fault.name if chosen else None))
            return chosen

    # What went through

    @property
    def requests(self):
        """``RequestRecord(method, path, fault)`` tuples, oldest first (a copy).

        A request is recorded once read, before its fault applies; ``fault``
        is the fault's ``name``, or ``None`` for a forwarded request.
        """
        with self._lock:
            return list(self._records)

    @property
    def request_count(self):
        # type: () -> int
        """Requests read from clients since the proxy was made or ``clear_requests()``."""
        with self._lock:
            return self._request_count

    @property
    def connection_count(self):
        """Client connections accepted since the proxy was made or ``clear_requests()``."""
        with self._lock:
            return self._connection_count

    @property
    def upstream_connection_count(self):
        """Upstream connections opened since the proxy was made or ``clear_requests()``."""
        with self._lock:
            return self._upstream_connection_count

    def clear_requests(self):
        """Forget the recorded requests and zero the counters."""
        with self._lock:
            self._records.clear()
            self._request_count = 0
            self._connection_count = 0
            self._upstream_connection_count = 0

    # Sockets

    def _listen(self):
        family, kind, proto, _, address = socket.getaddrinfo(
            self.host, self.port, 0, socket.SOCK_STREAM)[0]
        listener = socket.socket(family, kind, proto)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(address)
            listener.listen(128)
            listener.setblocking(False)
        except socket.error:
            listener.close()
            raise
        self.port = listener.getsockname()[1]
        self._listener = listener
        thread = threading.Thread(target=self._accept_loop, args=(listener,),
                                  name="fault-proxy-accept-%d" % self.port)
        thread.daemon = True
        self._accept_thread = thread
        thread.start()

    def _accept_loop(self, listener):
        while True:
            with self._lock:
                if self._listener is not listener:
                    return
            try:
                readable = select.select([listener], [], [], _ACCEPT_POLL)[0]
            except (select.error, socket.error, ValueError):
                readable = []  # closed by go_down() while we waited
            if not readable:
                continue
            # Accept under the lock, so that go_down() resets every
            # connection accepted before the port closed.
            with self._lock:
                if self._listener is not listener:
                    return
                try:
                    client, address = listener.accept()
                except socket.error:
                    continue  # the client gave up already, or a spurious wake-up
                self._connection_count += 1
                try:
                    exchange = _Exchange(self, client, self._connection_count)
                    exchange.thread.start()
                except (socket.error, RuntimeError):
                    log.exception("fault proxy cannot serve %s", address)
                    _close_quietly(client)
                    continue
                self._connections.add(exchange)

    def _connection_closed(self, exchange):
        with self._lock:
            self._connections.discard(exchange)

    def _upstream_connected(self):
        with self._lock:
            self._upstream_connection_count += 1

    def _drop_connections(self, reset):
        with self._lock:
            listener, self._listener = self._listener, None
            if listener is not None:
                listener.close()
            threads = [self._accept_thread] if self._accept_thread else []
            self._accept_thread = None
            exchanges = list(self._connections)
        for exchange in exchanges:
            exchange.abort(reset)
        _join_all(threads + [exchange.thread for exchange in exchanges], JOIN_TIMEOUT)


# --- one client connection ------------------------------------------------------------

class _Aborted(Exception):
    """The connection must end now: the proxy stopped or went down, or the client left."""


class _BadMessage(Exception):
    """A message that cannot be relayed; ``status`` is what to answer with."""

    def __init__(self, status, detail):
        Exception.__init__(self, detail)
        self.status = status


class _Incomplete(Exception):
    """The peer closed the connection in the middle of a message."""


class _UpstreamTimeout(Exception):
    """The upstream did not answer within ``upstream_timeout``."""


class _Request(object):
    """A request read from the client, and the bytes that forward it."""

    def __init__(self, method, target, version, headers, body, chunked):
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
        tokens = _tokens(headers, "connection")
        self.close = "close" in tokens or (version == "HTTP/1.0" and "keep-alive" not in tokens)
        lines = ["%s %s %s" % (method, target, version)]
        for name, value in headers:
            lowered = name.lower()
            if lowered in ("transfer-encoding", "content-length"):
                continue
            if lowered == "expect" and value.strip().lower() == "100-continue":
                continue  # answered by the proxy: the body is read whole first
            lines.append("%s: %s" % (name, value))
        if body or chunked or _values(headers, "content-length"):
            lines.append("Content-Length: %d" % len(body))
        self.wire = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class _Response(object):
    """A whole response as raw bytes, and whether each side must close after it."""

    def __init__(self, raw, close_client, close_upstream=False):
        self.raw = raw
        self.close_client = close_client
        self.close_upstream = close_upstream


class _Exchange(object):
    """One client connection and its upstream connection, served by one thread."""

    def __init__(self, proxy, client, number):
        self.proxy = proxy
        self.client = client
        self.upstream = None
        self.upstream_stream = None
        self.reset_on_close = False
        self._doom = None  # "reset" or "close", set by abort() from another thread
        self._lock = threading.Lock()  # guards closing and shutting down the sockets
        client.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.settimeout(_SOCKET_SLICE)
        self.stream = _Stream(client, self._check)
        self.thread = threading.Thread(target=self._run, name="fault-proxy-connection-%d" % number)
        self.thread.daemon = True

    # Control from other threads

    def abort(self, reset):
        """End the connection (with a RST when ``reset``) and wake its thread."""
        with self._lock:
            self._doom = "reset" if reset else "close"
            for sock in (self.client, self.upstream):
                if sock is None:
                    continue
                try:
                    # SHUT_RD sends nothing but ends a blocked recv() at once.
                    sock.shutdown(socket.SHUT_RD)
                except socket.error:
                    pass

    def _check(self):
        if self._doom is not None or self.proxy._stopping.is_set():
            raise _Aborted()

    # The thread

    def _run(self):
        try:
            while True:
                request = self._read_request()
                if request is None:
                    break
                rule = self.proxy._select(request.method, request.target)
                if rule is None:
                    keep_open = self.relay(request)
                else:
                    log.debug("%s %s: %r", request.method, request.target, rule.fault)
                    keep_open = rule.fault._apply(self, request, rule)
                if not keep_open:
                    break
        except _Aborted:
            pass
        except socket.error as error:
            log.debug("client connection ended: %s", error)
        except Exception:
            log.exception("fault proxy connection failed")
        finally:
            self._close()
            self.proxy._connection_closed(self)

    def _close(self):
        with self._lock:
            if self.reset_on_close or self._doom == "reset":
                _set_linger_zero(self.client)
            _close_quietly(self.client)
            _close_quietly(self.upstream)
            self.upstream = self.upstream_stream = None

    def _read_request(self):
        """The next request, or ``None`` when the connection should end."""
        try:
            head = _read_head(self.stream)
            if head is None:
                return None
            start, headers = head
            parts = start.split(" ")
            if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
                raise _BadMessage(400, "malformed request line %r" % start[:200])
            method, target, version = parts
            if version != "HTTP/1.0" and "100-continue" in _tokens(headers, "expect"):
                self.send(b"HTTP/1.1 100 Continue\r\n\r\n")
            body, chunked = _read_request_body(self.stream, headers)
        except _Incomplete:
            return None
        except _BadMessage as error:
            log.debug("bad request from client: %s", error)
            self.send(_error_page(error.status, str(error), close=True).raw)
            return None
        return _Request(method, target, version, headers, body, chunked)

    # What faults use

    def send(self, data):
        """Write ``data`` to the client, in one ``send`` call when the buffer allows."""
        self._send_all(self.client, data)

    def _send_all(self, sock, data):
        """Write all of ``data`` to ``sock``, giving up if the proxy stops meanwhile."""
        offset = 0
        while offset < len(data):
            self._check()
            try:
                offset += sock.send(data[offset:] if offset else data)
            except socket.timeout:
                continue
            except socket.error as error:
                if error.errno == errno.EINTR:
                    continue
                raise

    def relay(self, request):
        """Forward ``request`` and pass the answer on; return whether to keep the connection."""
        response = self.forward(request)
        self.send(response.raw)
        return not response.close_client

    def wait(self, seconds):
        """Let ``seconds`` pass, unless the proxy stops or goes down first."""
        deadline = monotonic() + seconds
        while True:
            self._check()
            remaining = deadline - monotonic()
            if remaining <= 0:
                return
            self.proxy._stopping.wait(min(remaining, _HOLD_POLL))

    def hold(self, keep_holding):
        """Answer nothing while ``keep_holding()`` is true and the client stays."""
        while keep_holding():
            self._check()
            if self._client_left():
                raise _Aborted()
            self.proxy._stopping.wait(_HOLD_POLL)

    def forward(self, request):
        """Send ``request`` upstream and return the whole answer, or a 502/504 page."""
        idempotent = request.method.upper() in _IDEMPOTENT_METHODS
        for attempt in (1, 2):
            try:
                opened = self._connect_upstream()
            except socket.error as error:
                return self._gateway_error(request, 502, "cannot connect to %s: %s" % (
                    self.proxy.upstream, error))
            # A kept-alive connection may have been closed by the upstream
            # while the request was on its way: then try once more on a new
            # one if the request could not be sent, or if nothing came back
            # and running it twice would do no harm.
            may_retry = attempt == 1 and not opened
            try:
                self._send_upstream(request.wire)
            except socket.error as error:
                if error.errno not in _RESET_ERRNOS:
                    raise
                self._drop_upstream()
                if may_retry:
                    continue
                return self._gateway_error(request, 502, "connection to %s lost: %s" % (
                    self.proxy.upstream, error))
            stream = self.upstream_stream
            stream.received = 0
            try:
                response = self._read_response(request)
            except (_Incomplete, _BadMessage, socket.error) as error:
                if isinstance(error, socket.error) and error.errno not in _RESET_ERRNOS:
                    raise
                self._drop_upstream()
                if may_retry and idempotent and stream.received == 0:
                    continue
                return self._gateway_error(request, 502, "bad answer from %s: %s" % (
                    self.proxy.upstream, error))
            except _UpstreamTimeout:
                self._drop_upstream()
                return self._gateway_error(request, 504, "%s did not answer within %s s" % (
                    self.proxy.upstream, self.proxy.upstream_timeout))
            if response.close_upstream:
                self._drop_upstream()
            return response

    # The upstream side

    def _connect_upstream(self):
        """Make sure of an upstream connection; return whether it is a new one."""
        # Between two requests a kept-alive connection has nothing to say:
        # readable means closed (or garbage), so start afresh.
        if self.upstream is not None and (
                self.upstream_stream.buffered or _readable(self.upstream)):
            self._drop_upstream()
        if self.upstream is not None:
            return False
        self._check()
        sock = socket.create_connection(self.proxy.upstream_address, self.proxy.connect_timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(_SOCKET_SLICE)
        with self._lock:
            if self._doom is not None:
                sock.close()
                raise _Aborted()
            self.upstream = sock
            self.upstream_stream = _Stream(sock, self._check)
        self.proxy._upstream_connected()
        return True

    def _drop_upstream(self):
        with self._lock:
            _close_quietly(self.upstream)
            self.upstream = self.upstream_stream = None

    def _send_upstream(self, data):
        self._send_all(self.upstream, data)

    def _read_response(self, request):
        stream = self.upstream_stream
        deadline = monotonic() + self.proxy.upstream_timeout
        while True:
            head = _read_head(stream, deadline, raw=True)
            if head is None:
                raise _Incomplete("the connection closed without an answer")
            start, headers, raw_head = head
            parts = start.split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not _DIGITS.match(parts[1]):
                raise _BadMessage(502, "malformed status line %r" % start[:200])
            status = int(parts[1])
            if 100 <= status < 200 and status != 101:
                continue  # an interim answer; the final one follows
            break
        version = parts[0]
        tokens = _tokens(headers, "connection")
        close = "close" in tokens or (version == "HTTP/1.0" and "keep-alive" not in tokens)
        if request.method.upper() == "HEAD" or status < 200 or status in _BODYLESS_STATUSES:
            body = b""
        elif _values(headers, "transfer-encoding"):
            if _codings(headers)[-1:] != ["chunked"]:
                body, close = stream.read_to_end(deadline), True
            else:
                body = _read_chunked(stream, deadline)[0]
        else:
            length = _content_length(headers, 502)
            if length is None:
                body, close = stream.read_to_end(deadline), True
            else:
                body = stream.read_exact(length, deadline)
        close_client = close or request.close or status == 101
        return _Response(raw_head + body, close_client, close_upstream=close_client)

    def _gateway_error(self, request, status, detail):
        log.info("fault proxy answers %d to %s %s: %s", status, request.method,
                 request.target, detail)
        return _error_page(status, detail, close=request.close)

    def _client_left(self):
        """Whether the client closed its end (pipelined bytes are left unread)."""
        if not _readable(self.client):
            return False
        try:
            return not self.client.recv(1, socket.MSG_PEEK)
        except socket.timeout:
            return False
        except socket.error:
            return True


# --- reading HTTP ---------------------------------------------------------------------

class _Stream(object):
    """Buffered reads of lines and exact lengths from a socket with a short timeout.

    ``check`` is called before each wait and raises to give up.
    """

    def __init__(self, sock, check):
        self.sock = sock
        self.check = check
        self.buffer = bytearray()
        self.received = 0

    @property
    def buffered(self):
        return len(self.buffer)

    def _fill(self, deadline=None):
        """Read what is there into the buffer; return ``False`` at the end of the stream."""
        while True:
            self.check()
            if deadline is not None and monotonic() >= deadline:
                raise _UpstreamTimeout()
            try:
                data = self.sock.recv(_RECV_SIZE)
            except socket.timeout:
                continue
            except socket.error as error:
                if error.errno == errno.EINTR:
                    continue
                raise
            if not data:
                self.check()  # an abort() ends reads like a closed peer does
                return False
            self.received += len(data)
            self.buffer.extend(data)
            return True

    def _take(self, count):
        data = bytes(self.buffer[:count])
        del self.buffer[:count]
        return data

    def read_line(self, deadline=None):
        """One line with its newline, or the bytes before the end of the stream."""
        start = 0
        while True:
            index = self.buffer.find(b"\n", start)
            if index >= 0:
                return self._take(index + 1)
            if len(self.buffer) > _MAX_LINE:
                raise _BadMessage(431, "a line longer than %d bytes" % _MAX_LINE)
            start = len(self.buffer)
            if not self._fill(deadline):
                return self._take(len(self.buffer))

    def read_exact(self, count, deadline=None):
        while len(self.buffer) < count:
            if not self._fill(deadline):
                raise _Incomplete("the connection closed %d bytes before the end of a body"
                                  % (count - len(self.buffer)))
        return self._take(count)

    def read_to_end(self, deadline=None):
        while self._fill(deadline):
            pass
        return self._take(len(self.buffer))


def _read_head(stream, deadline=None, raw=False):
    """Read a start line and headers: ``(start, [(name, value)])`` (plus the raw
    bytes when ``raw``), or ``None`` when the stream ends before a first byte.
    """
    line = stream.read_line(deadline)
    while line in (b"\r\n", b"\n"):  # RFC 7230 3.5: ignore blank lines before a request
        line = stream.read_line(deadline)
    if not line:
        return None
    lines = [line]
    size = len(line)
    headers = []
    while True:
        if not line.endswith(b"\n"):
            raise _Incomplete("the connection closed in the middle of a head")
        line = stream.read_line(deadline)
        lines.append(line)
        size += len(line)
        if size > _MAX_HEAD:
            raise _BadMessage(431, "a head larger than %d bytes" % _MAX_HEAD)
        if line in (b"\r\n", b"\n"):
            break
        if not line.endswith(b"\n"):
            continue  # reported at the top of the loop
        text = line.decode("latin-1").rstrip("\r\n")
        if text[:1] in (" ", "\t") and headers:  # obsolete line folding
            name, value = headers[-1]
            headers[-1] = (name, value + " " + text.strip())
            continue
        name, colon, value = text.partition(":")
        if not colon or not name or name != name.strip():
            raise _BadMessage(400, "malformed header line %r" % text[:200])
        headers.append((name, value.strip()))
    start = lines[0].decode("latin-1").rstrip("\r\n")
    if raw:
        return start, headers, b"".join(lines)
    return start, headers


def _read_request_body(stream, headers):
    """The body of a request, de-chunked, and whether it came chunked."""
    if _values(headers, "transfer-encoding"):
        if _codings(headers) != ["chunked"]:
            raise _BadMessage(501, "unsupported Transfer-Encoding %r"
                              % ", ".join(_values(headers, "transfer-encoding")))
        return _read_chunked(stream)[1], True
    length = _content_length(headers, 400)
    return (stream.read_exact(length) if length else b""), False


def _read_chunked(stream, deadline=None):
    """Read a chunked body; return it as sent and as decoded."""
    raw, payload = [], []
    while True:
        line = stream.read_line(deadline)
        if not line.endswith(b"\n"):
            raise _Incomplete("the connection closed in the middle of a chunked body")
        raw.append(line)
        size = line.split(b";", 1)[0].strip()
        if not _CHUNK_SIZE.match(size):
            raise _BadMessage(400, "malformed chunk size line %r" % line[:200])
        size = int(size, 16)
        if size == 0:
            break
        chunk = stream.read_exact(size + 2, deadline)
        if chunk[-2:] != b"\r\n":
            raise _BadMessage(400, "a chunk without its CRLF")
        raw.append(chunk)
        payload.append(chunk[:-2])
    while True:  # trailers, up to a blank line
        line = stream.read_line(deadline)
        if not line.endswith(b"\n"):
            raise _Incomplete("the connection closed in the middle of chunked trailers")
        raw.append(line)
        if line in (b"\r\n", b"\n"):
            return b"".join(raw), b"".join(payload)


def _values(headers, name):
    return [value for key, value in headers if key.lower() == name]


def _tokens(headers, name):
    """The comma-separated tokens of every ``name`` header, lower-cased."""
    return set(token.strip().lower() for value in _values(headers, name)
               for token in value.split(",") if token.strip())


def _codings(headers):
    return [token.strip().lower() for value in _values(headers, "transfer-encoding")
            for token in value.split(",") if token.strip()]


def _content_length(headers, status):
    """The Content-Length as an int, ``None`` when absent; ``_BadMessage(status)`` when invalid."""
    values = set(token.strip() for value in _values(headers, "content-length")
                 for token in value.split(","))
    if not values:
        return None
    if len(values) != 1 or not _DIGITS.match(next(iter(values))):
        raise _BadMessage(status, "invalid Content-Length %r" % sorted(values))
    return int(values.pop())


# --- small helpers --------------------------------------------------------------------

def _reason(status):
    return http_client.responses.get(status, "Unknown")


def _error_page(status, detail, close):
    """A short HTML page of the kind a reverse proxy answers with."""
    title = "%d %s" % (status, _reason(status))
    detail = detail.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    page = ("<!DOCTYPE html>\n<html><head><title>%s</title></head>\n"
            "<body><h1>%s</h1>\n<p>FaultProxy: %s</p></body></html>\n" % (title, title, detail))
    return _Response(Respond(status, page, content_type="text/html; charset=utf-8").render(
        "GET", close=close), close)


def _readable(sock):
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (select.error, socket.error, ValueError):
        return True


def _set_linger_zero(sock):
    """Make ``close()`` send a RST instead of a FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except socket.error:
        pass


def _close_quietly(sock):
    if sock is None:
        return
    try:
        sock.close()
    except socket.error:
        pass


def _join_all(threads, timeout):
    """Join threads within one shared time budget."""
    deadline = monotonic() + timeout
    for thread in threads:
        if thread is threading.current_thread():
            continue
        thread.join(max(0.0, deadline - monotonic()))
