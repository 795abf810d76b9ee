"""``compat``: the Python 2/3 differences, the same on both."""
from __future__ import unicode_literals

import datetime
import io
import sys
import time

import pytest
import six

from topchef_client.compat import (
    PY2, UTC, JSONDecodeError, flush_print, json_loads, local_datetime, monotonic,
    parse_timestamp, to_text, utc_datetime)

#: 2017-08-15 18:29:07.25 UTC, exact in binary floating point.
MOMENT = 1502821747.25


def utc(*fields):
    return datetime.datetime(*fields, tzinfo=UTC)


def test_py2_tells_the_running_interpreter():
    assert PY2 == (sys.version_info[0] == 2)


# Clocks and datetimes

def test_monotonic_never_goes_backwards():
    readings = [monotonic() for _ in range(10000)]
    assert readings == sorted(readings)


def test_monotonic_moves_on():
    # Not wait_until: it is built on monotonic() itself.
    first = monotonic()
    deadline = time.time() + 1.0
    while monotonic() <= first:
        assert time.time() < deadline, "monotonic() stood still for 1 s"
        time.sleep(0.001)


def test_utc_is_a_zero_offset_named_utc():
    moment = utc(2017, 8, 15, 18, 29, 7)
    assert moment.utcoffset() == datetime.timedelta(0)
    assert moment.tzname() == "UTC"


def test_utc_datetime_is_the_aware_utc_datetime_of_a_timestamp():
    assert utc_datetime(MOMENT) == utc(2017, 8, 15, 18, 29, 7, 250000)
    assert utc_datetime(MOMENT).utcoffset() == datetime.timedelta(0)
    assert utc_datetime(0) == utc(1970, 1, 1)


def test_local_datetime_is_the_naive_local_time_of_a_timestamp():
    local = time.localtime(MOMENT)
    moment = local_datetime(MOMENT)
    assert moment.tzinfo is None
    assert moment == datetime.datetime(*local[:6], microsecond=250000)


# Text and JSON

@pytest.mark.parametrize("data, expected", [
    (b"caf\xc3\xa9", "caf\u00e9"),
    (b"caf\xe9 au lait", "caf\ufffd au lait"),  # not UTF-8: replaced, not raised
    (b"", ""),
    ("caf\u00e9", "caf\u00e9"),
    (42, "42"),
    (None, "None"),
    (ValueError("boom"), "boom"),
])
def test_to_text_decodes_bytes_passes_text_through_and_converts_the_rest(data, expected):
    text = to_text(data)
    assert text == expected
    assert isinstance(text, six.text_type)


def test_to_text_decodes_with_the_encoding_given():
    assert to_text(b"caf\xe9", "latin-1") == "caf\u00e9"


@pytest.mark.parametrize("data", [
    b'{"name": "caf\xc3\xa9", "values": [1, 2.5, null, true]}',
    '{"name": "caf\u00e9", "values": [1, 2.5, null, true]}',
])
def test_json_loads_parses_bytes_and_text(data):
    assert json_loads(data) == {"name": "caf\u00e9", "values": [1, 2.5, None, True]}


@pytest.mark.parametrize("data", [
    b"not json", "not json", "", "{", "<html><body>502 Bad Gateway</body></html>",
    b"\xff\xfe{}",  # not even UTF-8
])
def test_json_loads_raises_value_error_on_what_is_not_json(data):
    with pytest.raises(ValueError):
        json_loads(data)


def test_json_decode_error_is_a_value_error_that_json_loads_raises():
    assert issubclass(JSONDecodeError, ValueError)
    with pytest.raises(JSONDecodeError):
        json_loads("{")


# Output

class RecordingStream(object):
    """A stream that records its writes and flushes, in order."""

    def __init__(self):
        self.events = []

    def write(self, text):
        self.events.append(("write", text))

    def flush(self):
        self.events.append(("flush",))


def test_flush_print_writes_a_line_then_flushes():
    stream = RecordingStream()
    flush_print("job 42 done", stream)
    assert stream.events == [("write", "job 42 done\n"), ("flush",)]


def test_flush_print_writes_to_standard_output_by_default(monkeypatch):
    stream = RecordingStream()
    monkeypatch.setattr(sys, "stdout", stream)
    flush_print("ready")
    assert stream.events == [("write", "ready\n"), ("flush",)]


def test_flush_print_works_on_a_real_text_stream():
    stream = io.StringIO()
    flush_print("caf\u00e9", stream)
    assert stream.getvalue() == "caf\u00e9\n"


# Timestamps

@pytest.mark.parametrize("text, expected", [
    # The forms TopChef servers write.
    ("2017-08-15T18:29:07.902093+00:00", utc(2017, 8, 15, 18, 29, 7, 902093)),
    ("2017-08-15T18:29:07+00:00", utc(2017, 8, 15, 18, 29, 7)),
    ("2017-08-15T18:29:07.902093", utc(2017, 8, 15, 18, 29, 7, 902093)),
    ("2017-08-15T18:29:07", utc(2017, 8, 15, 18, 29, 7)),  # no offset: UTC
    ("2017-08-15T18:29:07Z", utc(2017, 8, 15, 18, 29, 7)),
    ("2017-08-15T18:29:07.5Z", utc(2017, 8, 15, 18, 29, 7, 500000)),
    # Other offsets, converted to UTC.
    ("2017-08-15T20:29:07+02:00", utc(2017, 8, 15, 18, 29, 7)),
    ("2017-08-15T13:29:07-05:00", utc(2017, 8, 15, 18, 29, 7)),
    ("2017-08-15T23:59:07.25+05:30", utc(2017, 8, 15, 18, 29, 7, 250000)),
    ("2017-08-15T22:29:07-04:00", utc(2017, 8, 16, 2, 29, 7)),  # the next day in UTC
    ("2017-08-15T20:29:07+0200", utc(2017, 8, 15, 18, 29, 7)),
    # A space instead of T.
    ("2017-08-15 18:29:07", utc(2017, 8, 15, 18, 29, 7)),
    ("2017-08-15 18:29:07.902093+00:00", utc(2017, 8, 15, 18, 29, 7, 902093)),
    # More than 6 fraction digits: the rest is dropped.
    ("2017-08-15T18:29:07.1234567", utc(2017, 8, 15, 18, 29, 7, 123456)),
    ("2017-08-15T18:29:07.123456789+00:00", utc(2017, 8, 15, 18, 29, 7, 123456)),
    # Nothing that is a date.
    (None, None),
    ("", None),
    ("garbage", None),
    ("2017-08-15", None),
    ("2017-08-15T18:29", None),
    ("2017-08-15T18:29:07+00:00 and more", None),
    ("2017-13-01T00:00:00", None),
    ("0000-01-01T00:00:00", None),
    ("2017-02-30T00:00:00", None),
    ("2017-08-15T24:00:00", None),
    ("0001-01-01T00:30:00+01:00", None),  # before the first datetime once in UTC
    ("9999-12-31T23:30:00-01:00", None),  # after the last one
])
def test_parse_timestamp_reads_topchefs_forms_as_aware_utc_datetimes(text, expected):
    parsed = parse_timestamp(text)
    assert parsed == expected
    if expected is not None:
        assert parsed.utcoffset() == datetime.timedelta(0)
