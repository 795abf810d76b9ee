"""One client connection of ``FaultProxy``, relayed to the upstream by a thread of its own.

A ``Relay`` reads one request after another from its client, asks the proxy
which rule (if any) applies, and either forwards the request over its own
kept-alive upstream connection or lets the rule's fault act on it (the
operations faults use are listed in ``topchef_client.testing.faults``).
Every response is read whole before it is written to the client in one
``send`` call, which is what lets a fault choose what the client gets.
"""
import errno
import logging
import select
import socket
import struct
import threading

from topchef_client.compat import monotonic
from topchef_client.testing import http11
from topchef_client.testing.faults import Respond

log = logging.getLogger(__name__)

# Seconds a blocked socket call waits before its thread checks whether to
# give up; shutdown() wakes readers at once, this is the fallback.
SOCKET_SLICE = 0.25
# Seconds between checks while a fault holds a request back: how late a
# request is let go after its rule is removed.
_HOLD_POLL = 0.005
# RFC 7231 4.2.2: a request that may be sent again when a kept-alive
# upstream connection turns out to have been closed before it answered.
_IDEMPOTENT_METHODS = frozenset(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"])
_RESET_ERRNOS = frozenset(getattr(errno, name) for name in (
    "ECONNRESET", "ECONNABORTED", "EPIPE", "ENOTCONN", "ESHUTDOWN", "EBADF")
    if hasattr(errno, name))


class Aborted(Exception):
    """The connection must end now: the proxy stopped or went down, or the client left."""


class Request(object):
    """A request read from the client, and the bytes that forward it."""

    def __init__(self, method, target, version, headers, body, chunked):
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
        self.close = http11.closes(version, headers)
        lines = ["%s %s %s" % (method, target, version)]
        for name, value in headers:
            lowered = name.lower()
            if lowered in ("transfer-encoding", "content-length"):
                continue
            if lowered == "expect" and value.strip().lower() == "100-continue":
                continue  # answered by the proxy: the body is read whole first
            lines.append("%s: %s" % (name, value))
        if body or chunked or http11.values(headers, "content-length"):
            lines.append("Content-Length: %d" % len(body))
        self.wire = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class Response(object):
    """A whole response as raw bytes, and whether each side must close after it."""

    def __init__(self, raw, close_client, close_upstream=False):
        self.raw = raw
        self.close_client = close_client
        self.close_upstream = close_upstream


class Relay(object):
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
        client.settimeout(SOCKET_SLICE)
        self.stream = http11.SocketStream(client, self._check)
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
            raise Aborted()

    # The thread

    def _run(self):
        try:
            while True:
                request = self._read_request()
                if request is None:
                    break
                rule = self.proxy._select(request.method, request.target)
                if rule is None:
                    keep_open = self.pass_through(request)
                else:
                    log.debug("%s %s: %r", request.method, request.target, rule.fault)
                    keep_open = rule.fault._apply(self, request, rule)
                if not keep_open:
                    break
        except Aborted:
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
            close_quietly(self.client)
            close_quietly(self.upstream)
            self.upstream = self.upstream_stream = None

    def _read_request(self):
        """The next request, or ``None`` when the connection should end."""
        try:
            head = http11.read_request_head(self.stream)
            if head is None:
                return None
            method, target, version, headers = head
            if version != "HTTP/1.0" and "100-continue" in http11.tokens(headers, "expect"):
                self.send(b"HTTP/1.1 100 Continue\r\n\r\n")
            body, chunked = http11.read_request_body(self.stream, headers)
        except http11.Incomplete:
            return None
        except http11.BadMessage as error:
            log.debug("bad request from client: %s", error)
            self.send(_error_page(error.status, str(error), close=True).raw)
            return None
        return Request(method, target, version, headers, body, chunked)

    # What faults use

    def send(self, data):
        """Write ``data`` to the client, in one ``send`` call when the buffer allows."""
        self._send_all(self.client, data)

    def _send_all(self, sock, data):
        """Write all of ``data`` to ``sock``, giving up if the proxy stops meanwhile."""
        offset = 0
        while offset < len(data):
            rest = data[offset:] if offset else data
            offset += http11.patiently(lambda: sock.send(rest), self._check)

    def pass_through(self, request):
        """Forward ``request`` and pass the answer on; return whether to keep the connection."""
        response = self.forward(request)
        self.send(response.raw)
        return not response.close_client

    def wait(self, seconds, until=lambda: False):
        """Let ``seconds`` pass, unless ``until()`` turns true or the proxy stops or goes down."""
        deadline = monotonic() + seconds
        while not until():
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
                raise Aborted()
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
                self._send_all(self.upstream, request.wire)
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
            except (http11.Incomplete, http11.BadMessage, socket.error) as error:
                if isinstance(error, socket.error) and error.errno not in _RESET_ERRNOS:
                    raise
                self._drop_upstream()
                if may_retry and idempotent and stream.received == 0:
                    continue
                return self._gateway_error(request, 502, "bad answer from %s: %s" % (
                    self.proxy.upstream, error))
            except http11.DeadlineExceeded:
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
        sock.settimeout(SOCKET_SLICE)
        with self._lock:
            if self._doom is not None:
                sock.close()
                raise Aborted()
            self.upstream = sock
            self.upstream_stream = http11.SocketStream(sock, self._check)
        self.proxy._upstream_connected()
        return True

    def _drop_upstream(self):
        with self._lock:
            close_quietly(self.upstream)
            self.upstream = self.upstream_stream = None

    def _read_response(self, request):
        stream = self.upstream_stream
        deadline = monotonic() + self.proxy.upstream_timeout
        version, status, headers, head = http11.read_response_head(stream, deadline)
        body, until_close = http11.read_response_body(stream, request.method, status, headers,
                                                      deadline)
        close_client = (until_close or http11.closes(version, headers) or request.close
                        or status == 101)
        return Response(head + body, close_client, close_upstream=close_client)

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


def _error_page(status, detail, close):
    """A short HTML page of the kind a reverse proxy answers with."""
    title = "%d %s" % (status, http11.reason(status))
    detail = detail.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    page = ("<!DOCTYPE html>\n<html><head><title>%s</title></head>\n"
            "<body><h1>%s</h1>\n<p>FaultProxy: %s</p></body></html>\n" % (title, title, detail))
    return Response(Respond(status, page, content_type="text/html; charset=utf-8").render(
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


def close_quietly(sock):
    if sock is None:
        return
    try:
        sock.close()
    except socket.error:
        pass
