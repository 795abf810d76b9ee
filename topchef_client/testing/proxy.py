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

Faults: ``Delay``, ``Hang``, ``Reset``, ``Truncate``, ``Respond`` (defined in
``topchef_client.testing.faults`` and importable from here).

Each client connection gets a daemon thread and its own upstream
connection, both kept alive (``topchef_client.testing.relay``). What the
upstream sends is relayed byte for byte, so the client sees the upstream's
own framing and ``Connection`` headers. Requests are relayed with their
headers in order, except that a chunked body is forwarded with a
``Content-Length`` and an ``Expect: 100-continue`` is answered by the proxy
itself. Every response is read whole before it is written to the client in
one ``send`` call, which is what lets ``Truncate`` and ``Reset`` choose what
the client gets. There is no TLS, no ``CONNECT`` and no protocol upgrade.

It needs nothing beyond the standard library and ``six``.
"""
import collections
import logging
import select
import socket
import threading

from six.moves.urllib.parse import urlsplit

from topchef_client.compat import monotonic
from topchef_client.lanes import join_all
from topchef_client.testing.faults import Delay, Fault, Hang, Reset, Respond, Rule, Truncate
from topchef_client.testing.relay import Relay, close_quietly

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Deque, List, Optional, Set  # noqa: F401

__all__ = ["FaultProxy", "RequestRecord", "Fault", "Delay", "Hang", "Reset", "Truncate",
           "Respond", "Rule"]

log = logging.getLogger(__name__)

DEFAULT_CONNECT_TIMEOUT = 5.0  # seconds to open an upstream connection before a 502
DEFAULT_UPSTREAM_TIMEOUT = 60.0  # seconds to wait for an upstream answer before a 504
DEFAULT_MAX_RECORDED = 10000  # request records kept in FaultProxy.requests, newest last
JOIN_TIMEOUT = 2.0  # seconds go_down() and stop() wait, in all, for connection threads

# Seconds between checks of the accept loop for go_down() and stop(), where
# close_listener() cannot wake it at once.
_ACCEPT_POLL = 0.05

#: One request the proxy read: its method, its target as sent (path and any
#: query) and the ``name`` of the fault applied to it, or ``None``.
RequestRecord = collections.namedtuple("RequestRecord", "method path fault")


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
                    relay = Relay(self, client, self._connection_count)
                    relay.thread.start()
                except (socket.error, RuntimeError):
                    log.exception("fault proxy cannot serve %s", address)
                    close_quietly(client)
                    continue
                self._connections.add(relay)

    def _connection_closed(self, relay):
        with self._lock:
            self._connections.discard(relay)

    def _upstream_connected(self):
        with self._lock:
            self._upstream_connection_count += 1

    def _drop_connections(self, reset):
        with self._lock:
            listener, self._listener = self._listener, None
            if listener is not None:
                close_listener(listener)
            threads = [self._accept_thread] if self._accept_thread else []
            self._accept_thread = None
            relays = list(self._connections)
        for relay in relays:
            relay.abort(reset)
        join_all(threads + [relay.thread for relay in relays], monotonic() + JOIN_TIMEOUT)


def close_listener(listener):
    """Close a listening socket, and wake a ``select()`` waiting on it at once.

    Closing alone does not wake it: the accept loop would notice only when
    its ``_ACCEPT_POLL`` runs out, and every ``stop()`` and ``go_down()``
    would take that long. Shutting the socket down first makes it readable
    (Linux); where the system refuses, the poll remains.
    """
    try:
        listener.shutdown(socket.SHUT_RDWR)
    except socket.error:
        pass
    listener.close()

