"""The HTTP/1.1 readers that the fault proxy and the local server share."""
import io
import socket
import threading

import pytest

from topchef_client.compat import monotonic
from topchef_client.testing import http11


def stream_of(data):
    return http11.FileStream(io.BytesIO(data))


@pytest.fixture
def socket_stream_of():
    """``socket_stream_of(data)``: a ``SocketStream`` whose peer sends ``data`` and closes."""
    opened = []

    def make(data):
        ours, theirs = socket.socketpair()

        def send():
            try:
                theirs.sendall(data)
            finally:
                theirs.close()

        # A thread, so that data larger than the socket's buffer cannot block the test.
        sender = threading.Thread(target=send)
        sender.daemon = True
        sender.start()
        opened.append((ours, sender))
        ours.settimeout(0.05)
        return http11.SocketStream(ours)

    yield make
    for sock, sender in opened:
        sender.join(5)
        sock.close()


@pytest.fixture(params=["file", "socket"])
def any_stream_of(request):
    """Each kind of stream in turn, made from the bytes the peer sends."""
    return stream_of if request.param == "file" else request.getfixturevalue("socket_stream_of")


CHUNKED = b"4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Checksum: 1\r\n\r\n"


# --- heads ------------------------------------------------------------------------------------

def test_a_request_head_gives_method_target_version_and_headers_in_order():
    stream = stream_of(b"\r\nGET /jobs?x=1 HTTP/1.1\r\nHost: a\r\nX-Long: one\r\n two\r\n"
                       b"x-long: three\r\n\r\nrest")

    head = http11.read_request_head(stream)

    assert head == ("GET", "/jobs?x=1", "HTTP/1.1",
                    [("Host", "a"), ("X-Long", "one two"), ("x-long", "three")])
    assert http11.values(head[3], "x-long") == ["one two", "three"]


def test_the_end_of_the_stream_before_a_request_is_none():
    assert http11.read_request_head(stream_of(b"")) is None


@pytest.mark.parametrize("data, status", [
    (b"GET /\r\n\r\n", 400),
    (b"GET / SPDY/3\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nno colon\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\n Name : x\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nX: " + b"y" * http11.MAX_LINE + b"\r\n\r\n", 431),
], ids=["no-version", "not-http", "no-colon", "space-in-name", "long-line"])
def test_a_malformed_request_head_is_a_bad_message_with_its_status(any_stream_of, data, status):
    with pytest.raises(http11.BadMessage) as raised:
        http11.read_request_head(any_stream_of(data))
    assert raised.value.status == status


def test_a_head_cut_short_is_incomplete():
    with pytest.raises(http11.Incomplete):
        http11.read_request_head(stream_of(b"GET / HTTP/1.1\r\nHost: a"))


def test_a_response_head_skips_interim_answers_and_keeps_the_raw_bytes():
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"
    stream = stream_of(b"HTTP/1.1 100 Continue\r\n\r\n" + raw + b"ok")

    version, status, headers, head = http11.read_response_head(stream)

    assert (version, status, headers, head) == (
        "HTTP/1.1", 200, [("Content-Length", "2")], raw)
    assert http11.read_response_body(stream, "GET", status, headers) == (b"ok", False)


@pytest.mark.parametrize("data, error", [
    (b"", http11.Incomplete),
    (b"HTTP/1.1 OK\r\n\r\n", http11.BadMessage),
    (b"ICY 200 OK\r\n\r\n", http11.BadMessage),
], ids=["nothing", "no-status", "not-http"])
def test_a_missing_or_malformed_status_line_is_an_error(data, error):
    with pytest.raises(error):
        http11.read_response_head(stream_of(data))


# --- bodies -----------------------------------------------------------------------------------

def test_a_chunked_body_is_read_as_sent_and_as_decoded_with_its_trailers():
    raw, payload = http11.read_chunked(stream_of(CHUNKED + b"next"))
    assert (raw, payload) == (CHUNKED, b"Wikipedia")


@pytest.mark.parametrize("data, error", [
    (b"zz\r\n", http11.BadMessage),
    (b"4\r\nWikiXX", http11.BadMessage),
    (b"4\r\nWi", http11.Incomplete),
    (b"4\r\nWiki\r\n", http11.Incomplete),
    (b"0\r\nX-Trailer: 1", http11.Incomplete),
], ids=["bad-size", "no-crlf", "short-chunk", "no-last-chunk", "short-trailers"])
def test_a_broken_chunked_body_is_an_error(data, error):
    with pytest.raises(error):
        http11.read_chunked(stream_of(data))


def test_a_chunked_body_over_the_limit_stops_before_the_chunk_that_passes_it():
    stream = stream_of(b"4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n")
    with pytest.raises(http11.BadMessage) as raised:
        http11.read_chunked(stream, limit=8)
    assert raised.value.status == 413
    assert stream.stream.read() == b"pedia\r\n0\r\n\r\n"


@pytest.mark.parametrize("headers, data, expected", [
    ([], b"ignored", (b"", False)),
    ([("Content-Length", "3")], b"abcdef", (b"abc", False)),
    ([("content-length", "3, 3")], b"abc", (b"abc", False)),
    ([("Transfer-Encoding", "Chunked")], CHUNKED, (b"Wikipedia", True)),
], ids=["none", "length", "repeated-length", "chunked"])
def test_a_request_body_is_framed_by_its_headers(headers, data, expected):
    assert http11.read_request_body(stream_of(data), headers) == expected


@pytest.mark.parametrize("headers, status", [
    ([("Transfer-Encoding", "gzip, chunked")], 501),
    ([("Content-Length", "-1")], 400),
    ([("Content-Length", "1"), ("Content-Length", "2")], 400),
    ([("Content-Length", "9")], 413),
], ids=["gzip", "negative", "disagreeing", "over-limit"])
def test_a_request_body_that_cannot_be_read_is_a_bad_message(headers, status):
    with pytest.raises(http11.BadMessage) as raised:
        http11.read_request_body(stream_of(b"abcdefghi"), headers, limit=8)
    assert raised.value.status == status


@pytest.mark.parametrize("method, status, headers, data, expected", [
    ("HEAD", 200, [("Content-Length", "5")], b"", (b"", False)),
    ("GET", 204, [], b"", (b"", False)),
    ("GET", 200, [("Content-Length", "2")], b"okay", (b"ok", False)),
    ("GET", 200, [("Transfer-Encoding", "chunked")], CHUNKED, (CHUNKED, False)),
    ("GET", 200, [("Transfer-Encoding", "gzip")], b"zipped", (b"zipped", True)),
    ("GET", 200, [], b"to the end", (b"to the end", True)),
], ids=["head", "204", "length", "chunked-as-sent", "other-coding", "until-close"])
def test_a_response_body_is_read_as_sent_and_says_whether_it_ran_to_the_close(
        socket_stream_of, method, status, headers, data, expected):
    stream = socket_stream_of(data)
    assert http11.read_response_body(stream, method, status, headers) == expected


def test_an_invalid_response_length_is_a_502():
    with pytest.raises(http11.BadMessage) as raised:
        http11.read_response_body(stream_of(b""), "GET", 200, [("Content-Length", "x")])
    assert raised.value.status == 502


# --- header fields and streams ----------------------------------------------------------------

@pytest.mark.parametrize("version, headers, expected", [
    ("HTTP/1.1", [], False),
    ("HTTP/1.1", [("Connection", "Keep-Alive, Close")], True),
    ("HTTP/1.0", [], True),
    ("HTTP/1.0", [("connection", "keep-alive")], False),
])
def test_closes_follows_the_connection_tokens_and_the_version(version, headers, expected):
    assert http11.closes(version, headers) is expected


def test_a_socket_stream_counts_what_it_received_and_reads_to_the_end(socket_stream_of):
    stream = socket_stream_of(b"line\nrest")
    assert stream.read_line() == b"line\n"
    assert stream.buffered == 4 and stream.received == 9
    assert stream.read_to_end() == b"rest"
    assert stream.read_line() == b""


def test_a_socket_stream_read_gives_up_at_its_deadline():
    ours, theirs = socket.socketpair()
    try:
        ours.settimeout(0.01)
        stream = http11.SocketStream(ours)
        started = monotonic()
        with pytest.raises(http11.DeadlineExceeded):
            stream.read_line(deadline=started + 0.05)
        assert monotonic() - started < 1.0
    finally:
        ours.close()
        theirs.close()


def test_a_socket_stream_read_gives_up_when_its_check_says_so():
    stop = threading.Event()

    class Stopped(Exception):
        pass

    def check():
        if stop.is_set():
            raise Stopped()

    ours, theirs = socket.socketpair()
    try:
        ours.settimeout(0.01)
        stream = http11.SocketStream(ours, check)
        timer = threading.Timer(0.05, stop.set)
        timer.start()
        with pytest.raises(Stopped):
            stream.read_exact(1)
        timer.join()
    finally:
        ours.close()
        theirs.close()
