"""Every difference between Python 2.7 and Python 3.6+ that the package meets.

Other modules import these names instead of testing the interpreter version
themselves, so that the day Python 2 support ends this module is the only one
to simplify.
"""
import datetime
import json
import os
import re
import sys
import time

import six

PY2 = six.PY2

#: Seconds from an arbitrary origin that never goes backwards (Python 3), or
#: the wall clock where no monotonic clock exists (Python 2.7).
monotonic = getattr(time, "monotonic", time.time)

if PY2:  # pragma: no cover - exercised by the 2.7 test run
    JSONDecodeError = ValueError

    class _UTC(datetime.tzinfo):
        """The UTC time zone, which Python 2.7's datetime module lacks."""

        def utcoffset(self, dt):
            return datetime.timedelta(0)

        def dst(self, dt):
            return datetime.timedelta(0)

        def tzname(self, dt):
            return "UTC"

        def __repr__(self):
            return "UTC"

    UTC = _UTC()
else:
    JSONDecodeError = json.JSONDecodeError
    UTC = datetime.timezone.utc


def utc_datetime(seconds):
    """Return the aware UTC datetime of a POSIX timestamp."""
    return datetime.datetime.fromtimestamp(seconds, UTC)


def local_datetime(seconds):
    """Return the naive local-time datetime of a POSIX timestamp."""
    return datetime.datetime.fromtimestamp(seconds)


def to_text(data, encoding="utf-8"):
    """Decode bytes to text, replacing what does not decode; pass text through."""
    if isinstance(data, six.binary_type):
        return data.decode(encoding, "replace")
    return six.text_type(data)


def json_loads(data):
    """Parse JSON from bytes or text; raise ``ValueError`` when it is not JSON."""
    if isinstance(data, six.binary_type):
        data = data.decode("utf-8")
    return json.loads(data)


def quiet_at_exit(thread):
    """Keep a thread that is given up from printing a traceback when the interpreter exits.

    Python 2.7 empties every module at exit while daemon threads still run;
    one that was given up (its ``run`` still under way) then fails in
    whatever it touches, and its thread machinery prints that "exception
    raised during interpreter shutdown" to the stream it kept. Python 3
    stops daemon threads before, and needs nothing.
    """
    if PY2 and thread is not None:
        thread._Thread__stderr = open(os.devnull, "w")


def flush_print(line, stream=None):
    """Write one line and flush it at once, so a pipe reader sees it now."""
    stream = stream or sys.stdout
    stream.write(line + "\n")
    stream.flush()


_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6})\d*)?"
    r"(?:(Z)|([+-])(\d{2}):?(\d{2}))?$")


def parse_timestamp(text):
    """Parse TopChef's ISO 8601 timestamps into aware datetimes (UTC if no offset).

    Python 2.7's ``strptime`` has no ``%z`` and 3.6's ``fromisoformat`` does
    not exist, hence the pattern. Returns None for None, for unparseable
    text, and for well-formed text that is no date (month 13, year 0).
    """
    found = _TIMESTAMP.match(text or "")
    if not found:
        return None
    (year, month, day, hour, minute, second, fraction,
     zulu, sign, offset_hours, offset_minutes) = found.groups()
    try:
        value = datetime.datetime(int(year), int(month), int(day), int(hour),
                                  int(minute), int(second),
                                  int((fraction or "0").ljust(6, "0")), tzinfo=UTC)
        if sign:
            offset = datetime.timedelta(hours=int(offset_hours), minutes=int(offset_minutes))
            value = value - offset if sign == "+" else value + offset
    except (ValueError, OverflowError):
        return None
    return value
