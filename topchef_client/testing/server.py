# -*- coding: utf-8 -*-
"""``LocalServer``: a faithful TopChef server on loopback, for tests and development.

It answers real HTTP on a real port, with keep-alive, one thread per
connection, and the behaviour of either server generation, as the TopChef
HTTP API reference describes them (docs/server-api.rst §2 and §3)::

    from topchef_client.testing import LocalServer

    with LocalServer(generation="2016") as server:
        print(server.url)      # http://127.0.0.1:<port>

It needs nothing beyond the standard library, ``six`` and ``jsonschema``.
"""
import email.utils
import logging
import socket
import threading

from six.moves import BaseHTTPServer, socketserver

from topchef_client.compat import monotonic
from topchef_client.lanes import join_all
from topchef_client.testing import http11
from topchef_client.testing.app2016 import App2016
from topchef_client.testing.app2017 import App2017
from topchef_client.testing.clock import SystemClock
from topchef_client.testing.storage import Storage
from topchef_client.testing.web import Request, html_error

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Callable, Dict, List, Optional, Union  # noqa: F401


log = logging.getLogger(__name__)

#: The application that answers for each API generation.
APPLICATIONS = {"2016": App2016, "2017": App2017}
DEFAULT_MAX_BODY_SIZE = 1024 * 1024  # bytes; a larger request body is answered 413
#: Seconds to go on reading a request refused before its end (see ``_linger``).
LINGER_TIMEOUT = 1.0


class _RequestHandler(BaseHTTPServer.BaseHTTPRequestHandler):
    """Reads one request after another from a keep-alive connection."""

    protocol_version = "HTTP/1.1"
    server_version = "TopChefLocalServer"

    def __getattr__(self, name):
        # BaseHTTPRequestHandler dispatches to do_<METHOD>; every method goes to
        # the application, which answers 405 where Flask would.
        if name.startswith("do_"):
            return self._serve
        raise AttributeError(name)

    def setup(self):
        BaseHTTPServer.BaseHTTPRequestHandler.setup(self)
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self):
        owner = self.server.owner
        try:
            body = http11.read_request_body(http11.FileStream(self.rfile),
                                            list(self.headers.items()), owner.max_body_size)[0]
        except http11.Incomplete:
            self.close_connection = True  # the client left in the middle of its body
            return
        except http11.BadMessage as error:
            self.close_connection = True  # what is left of the body makes the stream unusable
            self._send(html_error(error.status))
            self._linger()
            return
        request = Request(self.command, self.path, self.headers, body,
                          host="%s:%d" % self.server.server_address[:2])
        response = owner.application.handle(request)
        owner._count_request()
        self._send(response)

    def _linger(self):
        """After an answer sent before the whole request was read: drop the rest.

        Closing a socket with unread data in it makes the kernel reset the
        connection, and a client still sending its body (a chunk at a time,
        say) would get the reset instead of the answer. So, as web servers do,
        say we are done writing, then read and drop what still comes, until
        the client closes or LINGER_TIMEOUT passes.
        """
        try:
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(LINGER_TIMEOUT)
            deadline = monotonic() + LINGER_TIMEOUT
            while monotonic() < deadline and self.connection.recv(65536):
                pass
        except socket.error:
            pass  # reset, or timed out: nothing more to do for this client

    def _send(self, response):
        headers = [("Server", self.server_version),
                   ("Date", email.utils.formatdate(usegmt=True))] + list(response.headers)
        # One write: headers and body in separate segments would meet Nagle's
        # algorithm and the peer's delayed ACK, and cost 40 ms a request.
        self.wfile.write(http11.render_response(
            response.status, self.responses.get(response.status, ("",))[0], headers,
            response.body, self.command, self.close_connection))

    def log_message(self, format, *args):
        log.debug("%s - " + format, self.address_string(), *args)


class _HTTPServer(socketserver.ThreadingMixIn, BaseHTTPServer.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    # socketserver's default backlog is 5: more clients connecting at once
    # than that (a worker's threads, a test's) lose their SYN while the
    # serving loop is busy, and the kernel sends it again only a second later.
    request_queue_size = 128

    def __init__(self, address, owner):
        self.owner = owner
        self.connections = set()
        self.handler_threads = set()
        self.connections_lock = threading.Lock()
        BaseHTTPServer.HTTPServer.__init__(self, address, _RequestHandler)

    def process_request_thread(self, request, client_address):
        current = threading.current_thread()
        with self.connections_lock:
            self.handler_threads.add(current)
        try:
            socketserver.ThreadingMixIn.process_request_thread(self, request, client_address)
        finally:
            with self.connections_lock:
                self.handler_threads.discard(current)

    def finish_request(self, request, client_address):
        with self.connections_lock:
            self.connections.add(request)
        try:
            BaseHTTPServer.HTTPServer.finish_request(self, request, client_address)
        except socket.error:
            pass  # the client went away; nothing to answer
        finally:
            with self.connections_lock:
                self.connections.discard(request)

    def handle_error(self, request, client_address):
        try:
            log.debug("error serving %s", client_address, exc_info=True)
        except Exception:
            pass  # at interpreter exit Python 2 may already have emptied the module

    def shutdown(self):
        """Stop ``serve_forever()`` now, not at the end of its poll interval.

        Shutting the listening socket down wakes the ``select()`` that the
        serving loop waits in (Linux; elsewhere the loop notices at its next
        poll); until the stop request is seen, its ``accept()`` fails at once.
        """
        try:
            self.socket.shutdown(socket.SHUT_RDWR)
        except socket.error:
            pass
        BaseHTTPServer.HTTPServer.shutdown(self)

    def close_connections(self, timeout):
        """Shut every open connection down and wait up to ``timeout`` for its thread.

        Waiting matters at interpreter exit: a handler thread still running
        then finds the modules it needs already emptied (Python 2).
        """
        with self.connections_lock:
            connections = list(self.connections)
            threads = list(self.handler_threads)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except socket.error:
                pass
        join_all(threads, monotonic() + timeout)


class LocalServer(object):
    """A TopChef server of either generation, on loopback, in background threads.

    :param generation: ``"2016"`` or ``"2017"``, the API generation to serve.
    :param db: a SQLite file to keep services and jobs in, or ``None`` to keep
        them in memory (lost at ``stop()``).
    :param host: the address to bind.
    :param port: the port to bind; ``0`` picks a free one (see ``url``), which
        is kept if the server is started again.
    :param clock: a callable returning POSIX seconds, such as
        ``ManualClock()``; it drives ``has_timed_out`` and every timestamp.
    :param quirks: reproduce the real servers' bugs that a client meets at run
        time (docs/server-api.rst §6); ``False`` answers what their code
        meant to answer.
    :param max_body_size: request bodies larger than this many bytes get 413.
    """

    def __init__(self, generation="2017", db=None, host="127.0.0.1", port=0,
                 clock=None, quirks=True, max_body_size=DEFAULT_MAX_BODY_SIZE):
        # type: (Union[str, int], Optional[str], str, int, Optional[Callable[[], float]], bool, int) -> None
        self.generation = str(generation)
        if self.generation not in APPLICATIONS:
            raise ValueError("generation must be '2016' or '2017', not %r" % (generation,))
        self.db = db
        self.host = host
        self.port = int(port)
        self.clock = clock or SystemClock()
        self.quirks = quirks
        self.max_body_size = max_body_size
        self.application = None  # type: Any
        self._httpd = None  # type: Any
        self._thread = None  # type: Any
        self._count_lock = threading.Lock()
        self._request_count = 0

    @property
    def running(self):
        # type: () -> bool
        return self._httpd is not None

    @property
    def url(self):
        # type: () -> str
        """The base URL, e.g. ``http://127.0.0.1:5000``, without a trailing slash."""
        if not self.running:
            raise RuntimeError("the server is not running: call start() first")
        return "http://%s:%d" % (self.host, self.port)

    def start(self):
        # type: () -> LocalServer
        """Bind, and serve in a daemon thread; return ``self``."""
        if self.running:
            return self
        storage = Storage(self.generation, self.db)
        self.application = APPLICATIONS[self.generation](storage, self.clock, self.quirks)
        try:
            self._httpd = _HTTPServer((self.host, self.port), self)
        except Exception:
            storage.close()
            raise
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
            name="topchef-local-server-%d" % self.port)
        self._thread.daemon = True
        self._thread.start()
        log.info("TopChef %s server listening on %s", self.generation, self.url)
        return self

    def stop(self):
        # type: () -> None
        """Stop serving and close every open connection; data in memory is lost."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections(timeout=5)
        self._thread.join(5)
        self.application.storage.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    def __repr__(self):
        state = self.url if self.running else "stopped"
        return "LocalServer(generation=%r, db=%r, %s)" % (self.generation, self.db, state)

    # For tests: inspect and disturb the server without HTTP

    @property
    def request_count(self):
        # type: () -> int
        """HTTP requests answered since ``start()`` or ``reset()``."""
        with self._count_lock:
            return self._request_count

    def _count_request(self):
        with self._count_lock:
            self._request_count += 1

    def reset(self):
        # type: () -> None
        """Forget every service and job, and zero ``request_count``."""
        self.application.storage.reset()
        with self._count_lock:
            self._request_count = 0

    def delete_service(self, service_id):
        # type: (str) -> bool
        """Remove a service and its jobs, as if it vanished from the server.

        Neither TopChef generation can delete anything; this simulates a
        database reset under a running worker. Returns whether it existed.
        """
        return self.application.storage.delete_service(str(service_id))

    def jobs(self, service_id=None):
        # type: (Optional[str]) -> List[Dict[str, Any]]
        """Every job (of one service), oldest first, as dicts."""
        return [{"id": job.id, "service_id": job.service_id, "status": job.status,
                 "parameters": job.parameters, "result": job.result}
                for job in self.application.storage.list_jobs(service_id)]


class ServerPool(object):
    """Local servers started on first use, one per generation: for test sessions.

    ``pool.get("2016")`` starts the 2016 server the first time and returns
    the same one afterwards; ``stop()`` stops them all.

    :param make_clock: called once per server for its clock, e.g.
        ``lambda: ManualClock(start)``; the system clock by default.
    :param options: for every ``LocalServer`` (``quirks``, ``max_body_size``...).
    """

    def __init__(self, make_clock=None, **options):
        # type: (Optional[Callable[[], Callable[[], float]]], **Any) -> None
        self.make_clock = make_clock
        self.options = options
        self._servers = {}  # type: Dict[str, LocalServer]
        self._lock = threading.Lock()

    def get(self, generation):
        # type: (Union[str, int]) -> LocalServer
        """The running server of ``generation``."""
        generation = str(generation)
        with self._lock:
            if generation not in self._servers:
                clock = self.make_clock() if self.make_clock else None
                self._servers[generation] = LocalServer(
                    generation=generation, clock=clock, **self.options).start()
            return self._servers[generation]

    def stop(self):
        # type: () -> None
        with self._lock:
            servers, self._servers = list(self._servers.values()), {}
        for server in servers:
            server.stop()
