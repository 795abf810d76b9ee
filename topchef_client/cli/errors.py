"""How a command ends: its exit codes, and the errors that pick them.

========  ===============================================================
``0``     done
``1``     the server cannot be reached or refused what was asked, a job
          failed, a wait timed out
``2``     bad arguments or input (``UsageError``, a ``ValidationError``)
``130``   stopped by SIGINT (Ctrl-C)
``143``   stopped by SIGTERM
========  ===============================================================
"""
import re
import signal

import six

from topchef_client.compat import to_text

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
#: A process stopped by a signal exits with 128 plus its number, as shells report it.
EXIT_SIGNAL_BASE = 128
EXIT_INTERRUPTED = EXIT_SIGNAL_BASE + signal.SIGINT
EXIT_TERMINATED = EXIT_SIGNAL_BASE + signal.SIGTERM


class UsageError(Exception):
    """Raised for bad arguments or input; its message is shown as is (exit 2)."""


class CommandFailed(Exception):
    """Raised when what was asked cannot be done; its message is shown as is (exit 1)."""


class Terminated(BaseException):
    """Raised in the main thread when SIGTERM arrives, as Ctrl-C raises KeyboardInterrupt."""


# Python 2.7 shows text values as u'...' inside messages (jsonschema's among
# them): a prefix that says nothing to a user. A u right after a letter,
# digit or quote is part of a word, and is kept.
_TEXT_PREFIX = re.compile(r"(?<![\w'\"\\])u(?=['\"])")


def one_line(text):
    # type: (object) -> six.text_type
    """``text`` as one line of plain words, without Python 2.7's ``u'...'`` prefixes."""
    return without_prefixes(u" ".join(to_text(text).split()))


def without_prefixes(text):
    # type: (six.text_type) -> six.text_type
    """``text`` (several lines allowed) without Python 2.7's ``u'...'`` prefixes."""
    return _TEXT_PREFIX.sub(u"", text) if six.PY2 else text
