"""What ``FaultProxy`` does to the requests it breaks: the faults, and the rules that pick them.

A ``Fault`` acts on one request through the ``Relay`` of its client connection
(``topchef_client.testing.relay``), with these operations of it:

* ``pass_through(request)``: forward and pass the answer on, as without a fault;
* ``forward(request)``: forward and return the whole answer, unsent;
* ``send(data)``: write bytes to the client;
* ``wait(seconds, until)`` and ``hold(keep_holding)``: let time pass, unless
  the proxy stops or goes down first (or ``until()`` turns true, or, for
  ``hold``, the client leaves);
* ``reset_on_close``: set it to close the client connection with a RST.

``_apply`` returns whether the client connection stays open afterwards.
"""
import re

import six

from topchef_client.compat import monotonic
from topchef_client.testing import http11


class Fault(object):
    """What the proxy does to a request that a rule selects; see the subclasses."""

    @property
    def name(self):
        """The name recorded in ``FaultProxy.requests``: the class name."""
        return type(self).__name__

    def _apply(self, relay, request, rule):
        """Answer ``request`` (or not); return whether the connection stays open."""
        raise NotImplementedError

    def __repr__(self):
        return "%s()" % self.name


class Delay(Fault):
    """Wait ``seconds``, then forward normally.

    The request reaches the upstream after the wait even when the client has
    given up meanwhile, like a request stuck on a slow path; use it to exceed
    a client's read timeout. Removing the rule (or ``clear_rules()``) ends
    the waits it started at once: a test can hold a request back for as long
    as it needs, with a generous ``seconds``, and let it go when it is ready.

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

    def _apply(self, relay, request, rule):
        if not self.after_forwarding:
            relay.wait(self.seconds, until=lambda: rule.withdrawn)
            return relay.pass_through(request)
        response = relay.forward(request)
        relay.wait(self.seconds, until=lambda: rule.withdrawn)
        relay.send(response.raw)
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

    def _apply(self, relay, request, rule):
        relay.hold(lambda: not rule.expired)
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

    def _apply(self, relay, request, rule):
        if self.after_forwarding:
            relay.forward(request)
        relay.reset_on_close = True
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

    def _apply(self, relay, request, rule):
        response = relay.forward(request)
        if self.keep_bytes:
            relay.send(response.raw[:self.keep_bytes])
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
        if self.body and http11.never_has_body(self.status):
            raise ValueError("a %d response cannot have a body" % self.status)
        if headers is None:
            headers = []
        elif hasattr(headers, "items"):
            headers = list(headers.items())
        self.headers = [(str(name), str(value)) for name, value in headers]
        self.content_type = content_type
        self.closes = "close" in http11.tokens(self.headers, "connection")

    def render(self, method, close=False):
        """The raw response to a ``method`` request; ``close`` adds ``Connection: close``."""
        content_type = [] if self.content_type is None else [
            ("Content-Type", self.content_type)]
        return http11.render_response(self.status, http11.reason(self.status),
                                      content_type + self.headers, self.body, method, close)

    def _apply(self, relay, request, rule):
        relay.send(self.render(request.method, close=request.close))
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
    def withdrawn(self):
        """Whether the rule was removed, or ended by ``clear_rules()``."""
        return self.removed or self._epoch != self._proxy._epoch

    @property
    def expired(self):
        """Whether the rule was withdrawn or its ``seconds`` have run out."""
        return self.withdrawn or (self.expires_at is not None and
                                  monotonic() >= self.expires_at)

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
        """Stop applying the rule and release the requests it holds (``Hang``, ``Delay``)."""
        self._proxy._remove_rule(self)

    def __repr__(self):
        return "Rule(%r, method=%r, path=%r, times=%r, seconds=%r, hits=%d)" % (
            self.fault, self.method, self.path, self.times, self.seconds, self.hits)
