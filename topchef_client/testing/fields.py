# -*- coding: utf-8 -*-
"""Request-body checks that behave like the marshmallow 2 schemas of both servers.

``load(document, fields)`` returns the accepted values and a map of field
name to a list of messages, with marshmallow's own message texts
(docs/server-api.rst §2.3 and §3.2), because those texts reach clients inside
error bodies.
"""
import re

import six

MISSING = "Missing data for required field."
NULL = "Field may not be null."
INVALID_INPUT = "Invalid input type."

_TRUTHY = ("t", "T", "true", "True", "TRUE", "1")
_FALSY = ("f", "F", "false", "False", "FALSE", "0")
_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")


class Invalid(Exception):
    """Raised by a field converter with marshmallow's message."""


def string(value):
    if not isinstance(value, six.string_types):
        raise Invalid("Not a valid string.")
    return value


def mapping(value):
    if not isinstance(value, dict):
        raise Invalid("Not a valid mapping type.")
    return value


def boolean(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, six.string_types):
        if value in _TRUTHY:
            return True
        if value in _FALSY:
            return False
    elif isinstance(value, six.integer_types + (float,)) and value in (0, 1):
        return bool(value)
    raise Invalid("Not a valid boolean.")


def period(value):
    """Generation 2017's timeout field: anything ``int()`` takes (docs/server-api.rst §3.2)."""
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise Invalid("Not a valid period of time.")


def datetime_text(value):
    if not isinstance(value, six.string_types) or not _DATETIME.match(value):
        raise Invalid("Not a valid datetime.")
    return value


def load(document, fields):
    """Check ``document`` against ``fields``: ``{name: (converter, required)}``.

    Unknown keys are ignored, as both servers do. Returns ``(values, errors)``.
    """
    if not isinstance(document, dict):
        return {}, {"_schema": [INVALID_INPUT]}
    values, errors = {}, {}
    for name, (converter, required) in sorted(fields.items()):
        if name not in document:
            if required:
                errors[name] = [MISSING]
            continue
        value = document[name]
        if value is None:
            errors[name] = [NULL]
            continue
        try:
            values[name] = converter(value)
        except Invalid as error:
            errors[name] = [error.args[0]]
    return values, errors


_TEXT_PREFIX = re.compile(r"""(?<![\w'"])u(?=['"])""")


def message_text(message):
    """A jsonschema message as the Python 3 server printed it.

    On Python 2.7 jsonschema quotes strings as ``u'a'``; the servers that
    docs/server-api.rst describes did not.
    """
    return _TEXT_PREFIX.sub("", message) if six.PY2 else message


def python_repr(value):
    """``repr`` as the Python 3 server printed it, without Python 2's ``u''``."""
    if isinstance(value, dict):
        return "{%s}" % ", ".join("%s: %s" % (python_repr(key), python_repr(item))
                                  for key, item in sorted(value.items()))
    if isinstance(value, list):
        return "[%s]" % ", ".join(python_repr(item) for item in value)
    text = repr(value)
    if isinstance(value, six.text_type) and text.startswith("u"):
        text = text[1:]
    return text
