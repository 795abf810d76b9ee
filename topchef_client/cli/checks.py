"""argparse types made of the checks in ``topchef_client.options``.

A bad value is refused by argparse in one line that names the option, the
value and what is allowed, such as ``argument --threads: must be a whole
number from 1 to 1024, not 0``: the same rule, in the same words, as the
library applies to the keyword argument of the same name.
"""
import argparse

import six

from topchef_client import options

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Callable, Iterable, Optional  # noqa: F401

#: The logging levels an option may name.
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# The name given to the checks, cut from their messages: argparse names the option.
_NAME = "\x00"


def _refused(error, text, value):
    """The check's message as argparse shows it after "argument --NAME:"."""
    message = six.text_type(error).replace(_NAME + " ", "", 1)
    if value is text:  # a word that is no number: show it as typed, not as a str
        message = message.replace(options.describe(text), options.describe(text,
                                                                           with_type=False))
    return argparse.ArgumentTypeError(message)


def _number(text, kind):
    """``text`` as a ``kind`` (int or float), else as a float, else as it is."""
    for convert in (kind, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def seconds(allow_zero=False, maximum=None):
    # type: (bool, Optional[float]) -> Callable[[str], float]
    """A number of seconds above 0 (or from 0), finite, up to ``maximum``."""
    def parse(text):
        value = _number(text, float)
        try:
            return options.seconds(_NAME, value, allow_zero=allow_zero, maximum=maximum)
        except (TypeError, ValueError) as error:
            raise _refused(error, text, value)
    parse.__name__ = "seconds"  # argparse's name for the type in its own messages
    return parse


def whole_number(minimum=0, maximum=None):
    # type: (int, Optional[int]) -> Callable[[str], int]
    """A whole number from ``minimum`` up to ``maximum``."""
    def parse(text):
        value = _number(text, int)
        try:
            return options.whole_number(_NAME, value, minimum=minimum, maximum=maximum)
        except (TypeError, ValueError) as error:
            raise _refused(error, text, value)
    parse.__name__ = "whole number"
    return parse


def choice(choices):
    # type: (Iterable[str]) -> Callable[[str], str]
    """One of ``choices``, in any case: ``info`` is ``INFO``."""
    choices = tuple(choices)

    def parse(text):
        for allowed in choices:
            if text.upper() == allowed.upper():
                return allowed
        try:  # refuses it, in the words of every other option check
            options.choice(_NAME, text, choices)
        except ValueError as error:
            raise _refused(error, text, text)
        raise AssertionError("options.choice took %r, which is none of %r" % (text, choices))
    parse.__name__ = "choice"
    return parse


def log_level():
    # type: () -> Callable[[str], str]
    """A logging level's name, in any case."""
    return choice(LOG_LEVELS)
