"""HTTP/1.1 message framing for the testing kit: one reader for the proxy and the server.

RFC 7230 as far as a fault proxy and a test server need it: request and
status lines, header fields (obsolete line folding included), and bodies
framed by ``Content-Length``, by the chunked transfer coding or by the end
of the connection. Header fields are lists of ``(name, value)`` pairs in the
order sent; every lookup ignores the case of the name.

The readers take a stream with ``read_line(deadline)`` and
``read_exact(count, deadline)`` (``read_response_body`` also
``read_to_end(deadline)``, for bodies that end with the connection); two
kinds exist:

* ``SocketStream`` buffers a socket that has a short timeout, so that the
  proxy's threads can notice a stop (``check``) or a ``deadline`` while
  they wait;
* ``FileStream`` wraps a blocking file object, such as the ``rfile`` of the
  local server's request handler (which reads the request head itself);
  it reads requests only, and has no ``read_to_end``.

It needs nothing beyond the standard library and ``six``.
"""
import errno
import re
import socket

from six.moves import http_client

from topchef_client.compat import monotonic

MAX_LINE = 65536  # bytes in one start, header or chunk-size line
MAX_HEAD = 262144  # bytes in a whole head
#: Statuses whose responses never have a body (RFC 7230 3.3.3), besides 1xx.
BODYLESS_STATUSES = (204, 304)

_RECV_SIZE = 65536
_CHUNK_SIZE = re.compile(br"^[0-9A-Fa-f]+$")
_DIGITS = re.compile(r"^[0-9]+$")
_BLANK_LINES = (b"\r\n", b"\n")


class BadMessage(Exception):
    """Raised when a message breaks HTTP/1.1; ``status`` is the answer it deserves."""

    def __init__(self, status, detail):
        Exception.__init__(self, detail)
        self.status = status


class Incomplete(Exception):
    """Raised when the peer closes the connection in the middle of a message."""


class DeadlineExceeded(Exception):
    """Raised when a read has not finished by its deadline."""


def patiently(operation, check=None, deadline=None):
    """Return ``operation()``, trying again while the socket times out or is interrupted.

    ``check()`` runs before every try and raises to give up; after
    ``deadline`` (a ``monotonic()`` time) ``DeadlineExceeded`` is raised.
    """
    while True:
        if check is not None:
            check()
        if deadline is not None and monotonic() >= deadline:
            raise DeadlineExceeded()
        try:
            return operation()
        except socket.timeout:
            continue
        except socket.error as error:
            if error.errno == errno.EINTR:
                continue
            raise


# --- streams ----------------------------------------------------------------------------

class SocketStream(object):
    """Buffered reads of lines and exact lengths from a socket with a short timeout.

    ``check`` is called before each wait and raises to give up. ``received``
    counts the bytes read from the socket, for callers that must know
    whether the peer said anything at all.
    """

    def __init__(self, sock, check=None):
        self.sock = sock
        self.check = check
        self.buffer = bytearray()
        self.received = 0

    @property
    def buffered(self):
        """Bytes read from the socket and not yet taken."""
        return len(self.buffer)

    def _fill(self, deadline=None):
        """Read what is there into the buffer; return ``False`` at the end of the stream."""
        data = patiently(lambda: self.sock.recv(_RECV_SIZE), self.check, deadline)
        if not data:
            if self.check is not None:
                self.check()  # being told to stop ends reads as a closed peer does
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
            if index >= MAX_LINE or (index < 0 and len(self.buffer) > MAX_LINE):
                raise BadMessage(431, "a line longer than %d bytes" % MAX_LINE)
            if index >= 0:
                return self._take(index + 1)
            start = len(self.buffer)
            if not self._fill(deadline):
                return self._take(len(self.buffer))

    def read_exact(self, count, deadline=None):
        while len(self.buffer) < count:
            if not self._fill(deadline):
                raise Incomplete("the connection closed %d bytes before the end of a body"
                                 % (count - len(self.buffer)))
        return self._take(count)

    def read_to_end(self, deadline=None):
        while self._fill(deadline):
            pass
        return self._take(len(self.buffer))


class FileStream(object):
    """Lines and exact lengths from a blocking file object, such as a handler's ``rfile``.

    ``deadline`` is accepted for the readers' sake and ignored: the timeout
    of the file's socket, if any, bounds each read.
    """

    def __init__(self, stream):
        self.stream = stream

    def read_line(self, deadline=None):
        line = self.stream.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise BadMessage(431, "a line longer than %d bytes" % MAX_LINE)
        return line

    def read_exact(self, count, deadline=None):
        data = self.stream.read(count)
        if len(data) < count:
            raise Incomplete("the connection closed %d bytes before the end of a body"
                             % (count - len(data)))
        return data


# --- heads ------------------------------------------------------------------------------

def read_head(stream, deadline=None):
    """Read a start line and the header fields up to the blank line.

    Returns ``(start_line, headers, raw_bytes)``, or ``None`` when the stream
    ends before the first byte of a message.
    """
    line = stream.read_line(deadline)
    while line in _BLANK_LINES:  # RFC 7230 3.5: ignore blank lines before a request
        line = stream.read_line(deadline)
    if not line:
        return None
    lines = [line]
    size = len(line)
    headers = []
    while True:
        if not line.endswith(b"\n"):
            raise Incomplete("the connection closed in the middle of a head")
        line = stream.read_line(deadline)
        lines.append(line)
        size += len(line)
        if size > MAX_HEAD:
            raise BadMessage(431, "a head larger than %d bytes" % MAX_HEAD)
        if line in _BLANK_LINES:
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
            raise BadMessage(400, "malformed header line %r" % text[:200])
        headers.append((name, value.strip()))
    start = lines[0].decode("latin-1").rstrip("\r\n")
    return start, headers, b"".join(lines)


def read_request_head(stream):
    """``(method, target, version, headers)`` of the next request, or ``None`` at the end."""
    head = read_head(stream)
    if head is None:
        return None
    start, headers = head[:2]
    parts = start.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadMessage(400, "malformed request line %r" % start[:200])
    method, target, version = parts
    return method, target, version, headers


def read_response_head(stream, deadline=None):
    """``(version, status, headers, raw_bytes)`` of the final response.

    Interim ``1xx`` answers other than ``101`` are read and dropped.
    """
    while True:
        head = read_head(stream, deadline)
        if head is None:
            raise Incomplete("the connection closed without an answer")
        start, headers, raw = head
        parts = start.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not _DIGITS.match(parts[1]):
            raise BadMessage(502, "malformed status line %r" % start[:200])
        status = int(parts[1])
        if status >= 200 or status < 100 or status == 101:
            return parts[0], status, headers, raw


# --- bodies -----------------------------------------------------------------------------

def read_request_body(stream, headers, limit=None):
    """The body of a request, de-chunked, and whether it came chunked.

    :raises BadMessage: 400 for broken framing, 501 for a transfer coding
        other than chunked, 413 for a body over ``limit`` bytes (checked
        before the body is read).
    """
    if values(headers, "transfer-encoding"):
        if codings(headers) != ["chunked"]:
            raise BadMessage(501, "unsupported Transfer-Encoding %r"
                             % ", ".join(values(headers, "transfer-encoding")))
        return read_chunked(stream, limit=limit)[1], True
    length = content_length(headers, 400) or 0
    _check_size(length, limit)
    return (stream.read_exact(length) if length else b""), False


def read_response_body(stream, method, status, headers, deadline=None):
    """The body of the response to a ``method`` request, as sent (chunks and all).

    Returns ``(body, until_close)``: ``until_close`` when the body ran to the
    end of the connection, which then cannot carry another message.
    """
    if method.upper() == "HEAD" or never_has_body(status):
        return b"", False
    if values(headers, "transfer-encoding"):
        if codings(headers)[-1:] != ["chunked"]:
            return stream.read_to_end(deadline), True
        return read_chunked(stream, deadline)[0], False
    length = content_length(headers, 502)
    if length is None:
        return stream.read_to_end(deadline), True
    return stream.read_exact(length, deadline), False


def read_chunked(stream, deadline=None, limit=None):
    """Read a chunked body and its trailers; return it as sent and as decoded.

    :raises BadMessage: 400 for a malformed chunk, 413 when the decoded body
        would pass ``limit`` bytes (checked before each chunk is read).
    """
    raw, payload, size_so_far = [], [], 0
    while True:
        line = stream.read_line(deadline)
        if not line.endswith(b"\n"):
            raise Incomplete("the connection closed in the middle of a chunked body")
        raw.append(line)
        size = line.split(b";", 1)[0].strip()
        if not _CHUNK_SIZE.match(size):
            raise BadMessage(400, "malformed chunk size line %r" % line[:200])
        size = int(size, 16)
        if size == 0:
            break
        size_so_far += size
        _check_size(size_so_far, limit)
        chunk = stream.read_exact(size + 2, deadline)
        if chunk[-2:] != b"\r\n":
            raise BadMessage(400, "a chunk without its CRLF")
        raw.append(chunk)
        payload.append(chunk[:-2])
    while True:  # trailers, up to a blank line
        line = stream.read_line(deadline)
        if not line.endswith(b"\n"):
            raise Incomplete("the connection closed in the middle of chunked trailers")
        raw.append(line)
        if line in _BLANK_LINES:
            return b"".join(raw), b"".join(payload)


def _check_size(size, limit):
    if limit is not None and size > limit:
        raise BadMessage(413, "a body larger than %d bytes" % limit)


# --- header fields ----------------------------------------------------------------------

def values(headers, name):
    """The values of every ``name`` field (``name`` in lower case), in order."""
    return [value for key, value in headers if key.lower() == name]


def tokens(headers, name):
    """The comma-separated tokens of every ``name`` field, lower-cased, as a set."""
    return set(token.strip().lower() for value in values(headers, name)
               for token in value.split(",") if token.strip())


def codings(headers):
    """The transfer codings, lower-cased, in the order applied."""
    return [token.strip().lower() for value in values(headers, "transfer-encoding")
            for token in value.split(",") if token.strip()]


def content_length(headers, status):
    """The ``Content-Length`` as an int, ``None`` when absent.

    :raises BadMessage: with ``status`` when the field is invalid or its
        copies disagree.
    """
    found = set(token.strip() for value in values(headers, "content-length")
                for token in value.split(","))
    if not found:
        return None
    if len(found) != 1 or not _DIGITS.match(next(iter(found))):
        raise BadMessage(status, "invalid Content-Length %r" % sorted(found))
    return int(found.pop())


def closes(version, headers):
    """Whether the connection ends after this message (``Connection: close``, or HTTP/1.0)."""
    connection = tokens(headers, "connection")
    return "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection)


def reason(status):
    """The standard reason phrase of ``status``."""
    return http_client.responses.get(status, "Unknown")


def never_has_body(status):
    """Whether a response with ``status`` has no body, whatever the request (1xx, 204, 304)."""
    return status < 200 or status in BODYLESS_STATUSES


def render_response(status, reason_phrase, headers, body, method, close):
    """The bytes of a response to a ``method`` request: its head, and its body if it has one.

    ``headers`` are sent as given; ``Content-Length`` is added unless they
    have one (or the status has no body), and ``Connection: close`` when
    ``close`` and they do not say so already.
    """
    lines = ["HTTP/1.1 %d %s" % (status, reason_phrase)]
    lines.extend("%s: %s" % header for header in headers)
    bodyless = never_has_body(status)
    if not bodyless and not values(headers, "content-length"):
        lines.append("Content-Length: %d" % len(body))
    if close and "close" not in tokens(headers, "connection"):
        lines.append("Connection: close")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head if bodyless or method.upper() == "HEAD" else head + body
