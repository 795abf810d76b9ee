"""JSON documents as TopChef carries them: strict JSON, and where a document is not."""
import json
import math

import six

from topchef_client.schemas import describe_path

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, List, Optional, Union  # noqa: F401


def json_bytes(document, what="the document"):
    # type: (Any, str) -> bytes
    """``document`` as strict JSON, UTF-8 bytes.

    :raises ValueError: it holds what JSON cannot carry: a set, a datetime,
        bytes (on Python 3), a key that is no string, NaN or an infinity
        (which the ``json`` module would write as the non-JSON ``NaN`` and
        ``Infinity``). The message names ``what`` and the place.
    """
    try:
        text = json.dumps(document, allow_nan=False)
    except (TypeError, ValueError, OverflowError, UnicodeDecodeError) as error:
        raise ValueError("%s is not JSON: %s" % (what, not_json(document) or error))
    return text.encode("utf-8") if isinstance(text, six.text_type) else text


def not_json(value, path=None):
    # type: (Any, Optional[List[Union[str, int]]]) -> Optional[str]
    """What in ``value`` JSON cannot carry, and where; None if nothing."""
    path = path or []
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return "%r at %s" % (value, describe_path(path))
    if value is None or isinstance(value, (bool, float) + six.integer_types +
                                   (six.text_type,)):
        return None
    if isinstance(value, six.binary_type) and six.PY2:
        try:
            value.decode("utf-8")
            return None
        except UnicodeDecodeError:
            return "bytes that are not UTF-8 at %s" % describe_path(path)
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, six.string_types):
                return "a %s key (%r) at %s" % (type(key).__name__, key, describe_path(path))
            problem = not_json(item, path + [key])
            if problem:
                return problem
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            problem = not_json(item, path + [index])
            if problem:
                return problem
        return None
    return "a %s at %s" % (type(value).__name__, describe_path(path))
