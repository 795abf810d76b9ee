# -*- coding: utf-8 -*-
"""What the commands write: text that any stream can take, tables, JSON, progress.

Standard output may be a pipe or a terminal whose encoding cannot show a
service's name (ASCII under ``LANG=C``, or no encoding at all for a Python
2.7 pipe). ``SafeText`` writes whatever the stream cannot encode as
backslash escapes instead of failing with ``UnicodeEncodeError``.
"""
import io
import json
import locale
import sys

import six

from topchef_client.cli.errors import without_prefixes
from topchef_client.compat import monotonic

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Dict, List, Optional, Sequence  # noqa: F401
    from topchef_client.models import Job  # noqa: F401


class SafeText(object):
    """A stream wrapper whose ``write`` never fails on a character the stream cannot encode."""

    def __init__(self, stream):
        self.stream = stream

    def _encoding(self):
        return getattr(self.stream, "encoding", None)

    def write(self, text):
        # type: (Any) -> None
        stream = self.stream
        encoding = self._encoding()
        if six.PY2 and not isinstance(stream, io.TextIOBase):
            # A Python 2 file takes bytes; one with no encoding (a pipe)
            # would encode text as ASCII, strictly.
            if isinstance(text, six.text_type):
                text = text.encode(encoding or locale.getpreferredencoding(False) or "ascii",
                                   "backslashreplace")
            stream.write(text)
            return
        if isinstance(text, bytes):
            text = text.decode("utf-8", "replace")
        if encoding:
            text = text.encode(encoding, "backslashreplace").decode(encoding)
        stream.write(text)

    def flush(self):
        # type: () -> None
        self.stream.flush()

    def isatty(self):
        # type: () -> bool
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())


class Console(object):
    """Standard output for results, standard error for everything else."""

    def __init__(self, out=None, err=None):
        self.out = SafeText(out if out is not None else sys.stdout)
        self.err = SafeText(err if err is not None else sys.stderr)

    def say(self, line):
        # type: (Any) -> None
        """One line of output, flushed at once (a reader at the end of a pipe sees it now)."""
        self.out.write(six.text_type(line) + u"\n")
        self.out.flush()

    def note(self, line):
        # type: (Any) -> None
        """One line on standard error."""
        self.err.write(without_prefixes(six.text_type(line)) + u"\n")
        self.err.flush()

    def json(self, document):
        # type: (Any) -> None
        self.say(json.dumps(document, indent=2, sort_keys=True, default=str))

    def table(self, rows, headers):
        # type: (List[Sequence[Any]], Sequence[str]) -> None
        """Rows under headers, in aligned columns."""
        rows = [[six.text_type(cell) for cell in row] for row in [list(headers)] + rows]
        widths = [max(len(row[column]) for row in rows) for column in range(len(headers))]
        for row in rows:
            self.say(u"  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())

    def progress(self, total):
        # type: (int) -> Optional[Progress]
        """A ``Progress`` on standard error when it is a terminal, else None."""
        return Progress(self.err, total, rewrite=True) if self.err.isatty() else None


def elapsed(seconds):
    # type: (float) -> str
    """``"7 s"``, ``"2 min 05 s"``."""
    seconds = int(seconds)
    if seconds < 60:
        return "%d s" % seconds
    return "%d min %02d s" % (seconds // 60, seconds % 60)


class Progress(object):
    """How far a wait for jobs has got.

    On a terminal (``rewrite``) one line, rewritten at each poll: the number
    finished, the statuses of the others, and the time waited, so that a
    single job shows ``WORKING`` and the seconds it has taken. Elsewhere (the
    demo's output), a line each time the number finished grows.

    Call it with the number finished, as ``TopChef.wait_all`` does, and
    optionally with the unfinished jobs as last seen.
    """

    def __init__(self, stream, total, rewrite=False, indent=""):
        self.stream = stream
        self.total = total
        self.rewrite = rewrite
        self.indent = indent
        self.started = monotonic()
        self._shown = None  # type: Optional[int]
        self._width = 0

    def __call__(self, finished, pending=None):
        # type: (int, Optional[Sequence[Job]]) -> None
        if not self.rewrite:
            if finished != self._shown:
                self._shown = finished
                self.stream.write("%s%d/%d finished\n" % (self.indent, finished, self.total))
                self.stream.flush()
            return
        line = self.indent + self.describe(finished, pending or ())
        self.stream.write("\r" + line.ljust(self._width))
        self.stream.flush()
        self._width = len(line)

    def describe(self, finished, pending):
        # type: (int, Sequence[Job]) -> str
        waited = elapsed(monotonic() - self.started)
        if self.total == 1 and pending:
            return "job %s: %s, %s" % (pending[0].id, pending[0].status or "unknown", waited)
        counts = {}  # type: Dict[str, int]
        for job in pending:
            status = job.status or "unknown"
            counts[status] = counts.get(status, 0) + 1
        statuses = "".join(", %d %s" % (counts[status], status) for status in sorted(counts))
        return "%d/%d finished%s, %s" % (finished, self.total, statuses, waited)

    def close(self):
        # type: () -> None
        """End the rewritten line, if any was written."""
        if self.rewrite and self._width:
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0
