# -*- coding: utf-8 -*-
"""A very small web framework that answers the way Flask and Werkzeug did.

The two generations of the TopChef server were Flask applications; a client
meets Flask's behaviour as much as TopChef's: HTML error pages for unrouted
paths and methods, an automatic ``OPTIONS``, ``jsonify``'s pretty-printed
bodies, and which request bodies count as JSON at all
(docs/server-api.rst §1). This module reproduces that much and no more, so
that ``app2016`` and ``app2017`` read as lists of endpoints.
"""
import json
import re
import uuid

from six.moves.urllib.parse import unquote

from topchef_client.compat import json_loads

HTML_CONTENT_TYPE = "text/html; charset=utf-8"
JSON_CONTENT_TYPE = "application/json"

_REASONS = {
    400: ("Bad Request", "The browser (or proxy) sent a request that this server "
                         "could not understand."),
    404: ("Not Found", "The requested URL was not found on the server. If you "
                       "entered the URL manually please check your spelling "
                       "and try again."),
    405: ("Method Not Allowed", "The method is not allowed for the requested URL."),
    413: ("Request Entity Too Large", "The data value transmitted exceeds the "
                                      "capacity limit."),
    431: ("Request Header Fields Too Large", "One or more header fields exceeds the "
                                             "maximum size."),
    500: ("Internal Server Error", "The server encountered an internal error and "
                                   "was unable to complete your request. Either "
                                   "the server is overloaded or there is an "
                                   "error in the application."),
    501: ("Not Implemented", "The server does not support the action requested by the "
                             "browser."),
}


class Request(object):
    """What a handler needs of an HTTP request."""

    def __init__(self, method, path, headers, body=b"", host="localhost"):
        self.method = method.upper()
        self.path = unquote(path.split("?", 1)[0])
        # Header names are case-insensitive; keep them lower-cased.
        self.headers = dict((name.lower(), value) for name, value in headers.items())
        self.body = body or b""
        self.base_url = "http://%s" % self.headers.get("host", host)

    @property
    def mimetype(self):
        content_type = self.headers.get("content-type", "")
        return content_type.split(";", 1)[0].strip().lower()

    @property
    def is_json(self):
        """Whether the content type makes Flask read the body as JSON (docs/server-api.rst §1)."""
        mimetype = self.mimetype
        return mimetype == "application/json" or (
            mimetype.startswith("application/") and mimetype.endswith("+json"))

    def json(self):
        """The body as JSON; ``NOT_JSON`` when the content type is not JSON.

        :raises MalformedJSON: the content type says JSON but the body is not.
        """
        if not self.is_json:
            return NOT_JSON
        try:
            return json_loads(self.body)
        except ValueError:
            raise MalformedJSON()

    def url(self, path):
        return self.base_url + path


class _NotJSON(object):
    """Marks a request whose content type is not JSON."""

    def __repr__(self):
        return "NOT_JSON"


NOT_JSON = _NotJSON()


class MalformedJSON(Exception):
    """Raised when a body declared as JSON does not parse."""


class HTTPException(Exception):
    """Raised by a handler to answer at once: with ``response``, or Flask's HTML error page.

    Flask's ``abort(response)``: a helper that finds the request unanswerable
    (an unknown id, a body that is not JSON) raises it, and every handler
    that calls the helper stays a straight line.
    """

    def __init__(self, status, response=None):
        Exception.__init__(self, status)
        self.status = status
        self.response = response


class Response(object):
    """Status, headers and body bytes of an answer."""

    def __init__(self, status, body=b"", content_type=JSON_CONTENT_TYPE, headers=None):
        self.status = status
        self.body = body
        self.headers = [("Content-Type", content_type)]
        self.headers.extend(headers or [])


def json_response(request, status, document, headers=None):
    """Answer like Flask's ``jsonify``: sorted keys, indented unless XHR.

    See docs/server-api.rst §1.
    """
    if request.headers.get("x-requested-with") == "XMLHttpRequest":
        text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    else:
        text = json.dumps(document, sort_keys=True, indent=2, separators=(",", ": "))
    return Response(status, (text + "\n").encode("utf-8"), headers=headers)


def html_error(status, headers=None):
    """Werkzeug's kind of HTML error page (docs/server-api.rst §1: framework errors are HTML)."""
    title, description = _REASONS[status]
    page = (u'<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n'
            u"<title>%d %s</title>\n<h1>%s</h1>\n<p>%s</p>\n"
            % (status, title, title, description))
    return Response(status, page.encode("utf-8"), HTML_CONTENT_TYPE, headers)


def empty_response(status, content_type=HTML_CONTENT_TYPE):
    """A response without a body, such as the empty ``204`` of an empty queue.

    See docs/server-api.rst quirk empty-queue-204.
    """
    return Response(status, b"", content_type)


def parse_uuid(text):
    """The canonical form of any UUID spelling that ``uuid.UUID`` accepts, or None."""
    try:
        return str(uuid.UUID(text))
    except (ValueError, TypeError, AttributeError):
        return None


class Router(object):
    """Maps ``/paths/<with>/<fields>`` and methods to handlers, the Flask way.

    ``HEAD`` is answered by the ``GET`` handler when ``head_as_get`` is set
    (Flask's default, kept by generation 2016); ``OPTIONS`` is always
    answered with the ``Allow`` header.
    """

    def __init__(self, head_as_get=True):
        self.head_as_get = head_as_get
        self._routes = []

    def add(self, pattern, **handlers):
        """Route ``pattern`` (``<name>`` matches one path segment) to handlers by method."""
        regex = "^" + re.sub(r"<(\w+)>", r"(?P<\1>[^/]+)", pattern) + "$"
        self._routes.append((re.compile(regex), dict(
            (method.upper(), handler) for method, handler in handlers.items())))

    def match(self, request):
        """Return ``(handler, arguments)`` or an error ``Response``."""
        for regex, handlers in self._routes:
            found = regex.match(request.path)
            if not found:
                continue
            handler = handlers.get(request.method)
            if handler is None and self.head_as_get and request.method == "HEAD":
                handler = handlers.get("GET")
            if handler is not None:
                return handler, found.groupdict()
            allow = set(handlers) | {"OPTIONS"}
            if self.head_as_get and "GET" in allow:
                allow.add("HEAD")
            allow_header = [("Allow", ", ".join(sorted(allow)))]
            if request.method == "OPTIONS":
                return Response(200, b"", HTML_CONTENT_TYPE, allow_header)
            return html_error(405, allow_header)
        return html_error(404)
