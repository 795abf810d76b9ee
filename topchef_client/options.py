"""Checks of the options users give, made when they are given.

Each check returns the value in its working form or raises ``TypeError``
(the wrong kind of value) or ``ValueError`` (the right kind, out of range),
with a message that names the option, the value and what is allowed.
"""
import math
import numbers

import six

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Dict, Iterable, Optional, Tuple, Union  # noqa: F401


class _FromClass(object):
    """The default of an option that a class attribute of the same name gives."""

    def __repr__(self):
        return "<the class attribute>"


#: See ``_FromClass``.
FROM_CLASS = _FromClass()


def describe(value, with_type=True):
    # type: (Any, bool) -> str
    """A value as a message shows it: its repr (shortened) and, where useful, its type."""
    text = repr(value)
    if six.PY2 and isinstance(value, six.text_type) and text.startswith("u"):
        text = text[1:]  # Python 2.7's u'...' says nothing to a user
    if len(text) > 80:
        text = text[:77] + "..."
    if not with_type or value is None or isinstance(
            value, (bool,) + six.integer_types + (float,)):
        return text
    return "%s (%s)" % (text, type(value).__name__)


def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def seconds(name, value, allow_zero=False, maximum=None, allow_none=False):
    # type: (str, Any, bool, Optional[float], bool) -> float
    """A finite number of seconds above 0 (or from 0) as a float.

    ``allow_none`` lets None through (the caller's "not set"), as it is.
    """
    if value is None and allow_none:
        return value  # type: ignore[return-value]
    allowed = "a number of seconds %s 0%s%s" % (
        "from" if allow_zero else "above",
        " up to %g" % maximum if maximum is not None else "",
        ", or None" if allow_none else "")
    if not _is_number(value):
        raise TypeError("%s must be %s, not %s" % (name, allowed, describe(value)))
    number = float(value)
    if (math.isnan(number) or math.isinf(number) or number < 0 or
            (number == 0 and not allow_zero) or (maximum is not None and number > maximum)):
        raise ValueError("%s must be %s, not %s" % (name, allowed, describe(value)))
    return number


def whole_number(name, value, minimum=0, maximum=None, allow_none=False):
    # type: (str, Any, int, Optional[int], bool) -> int
    """A whole number from ``minimum`` (up to ``maximum``) as an int.

    ``allow_none`` lets None through (the caller's "not set"), as it is.
    """
    if value is None and allow_none:
        return value  # type: ignore[return-value]
    allowed = "a whole number from %d%s%s" % (
        minimum, " to %d" % maximum if maximum is not None else "",
        ", or None" if allow_none else "")
    integral = isinstance(value, six.integer_types) or (
        isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not integral:
        error = ValueError if isinstance(value, float) else TypeError
        raise error("%s must be %s, not %s" % (name, allowed, describe(value)))
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError("%s must be %s, not %s" % (name, allowed, describe(value)))
    return int(value)


def choice(name, value, choices):
    # type: (str, Any, Iterable[Any]) -> Any
    """One of ``choices``, compared as text (so 2017 and "2017" are one choice)."""
    choices = list(choices)
    for allowed in choices:
        if value is not None and not isinstance(value, bool) and (
                six.text_type(value) == six.text_type(allowed)):
            return allowed
    raise ValueError("%s must be one of %s, not %s" % (
        name, ", ".join(repr(six.text_type(allowed)).lstrip("u") for allowed in choices),
        describe(value)))


def flag(name, value):
    # type: (str, Any) -> bool
    """True or False, nothing else (a string "false" is no flag)."""
    if not isinstance(value, bool):
        raise TypeError("%s must be True or False, not %s" % (name, describe(value)))
    return value


def text(name, value, allow_none=False):
    # type: (str, Any, bool) -> Optional[str]
    """A string."""
    if value is None and allow_none:
        return None
    if not isinstance(value, six.string_types):
        raise TypeError("%s must be a string%s, not %s" % (
            name, " or None" if allow_none else "", describe(value)))
    return value


def text_mapping(name, value):
    # type: (str, Any) -> Dict[str, str]
    """A dict of strings to strings (None: empty), such as extra HTTP headers."""
    if value is None:
        return {}
    if not hasattr(value, "items") or not all(
            isinstance(key, six.string_types) and isinstance(item, six.string_types)
            for key, item in value.items()):
        raise TypeError("%s must be a dict of strings to strings, not %s"
                        % (name, describe(value)))
    return dict(value.items())


def tls_verify(value):
    # type: (Any) -> Any
    """The ``verify`` option: True, False or the path of a CA bundle."""
    if not isinstance(value, (bool,) + six.string_types):
        raise TypeError("verify must be True, False or the path of a CA bundle, not %s"
                        % describe(value))
    return value


def tls_cert(value):
    # type: (Any) -> Any
    """The ``cert`` option: None, a certificate path, or a (certificate, key) pair."""
    pair = isinstance(value, tuple) and len(value) == 2 and all(
        isinstance(part, six.string_types) for part in value)
    if not (value is None or pair or isinstance(value, six.string_types)):
        raise TypeError("cert must be a certificate path, a (certificate, key) pair of "
                        "paths, or None, not %s" % describe(value))
    return value


def http_timeout(name, value):
    # type: (str, Any) -> Union[float, Tuple[float, float]]
    """Seconds for every request, or a (connect, read) pair; None: the defaults."""
    from topchef_client import defaults
    if value is None:
        return (defaults.DEFAULT_CONNECT_TIMEOUT, defaults.DEFAULT_READ_TIMEOUT)
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError("%s must be a number of seconds or a (connect, read) pair of "
                             "them, not %s" % (name, describe(value)))
        return (seconds(name + "[0] (connect)", value[0]),
                seconds(name + "[1] (read)", value[1]))
    return seconds(name, value)


def job_control(worker_class, time_limit, isolation, max_retries, recover_abandoned):
    # type: (type, Any, Any, Any, Any) -> Tuple[Optional[float], str, int, bool]
    """A worker's job-control options, checked; each not given is its class attribute."""

    def given(name, value):
        return getattr(worker_class, name) if value is FROM_CLASS else value

    return (seconds("time_limit", given("time_limit", time_limit), allow_none=True),
            choice("isolation", given("isolation", isolation), ("thread", "process")),
            whole_number("max_retries", given("max_retries", max_retries), minimum=0),
            flag("recover_abandoned", given("recover_abandoned", recover_abandoned)))
