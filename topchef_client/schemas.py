"""Local JSON Schema validation of job parameters and results.

The draft comes from the schema's ``$schema`` and is draft 4 without one,
the draft both TopChef servers validate with. A ``Schema`` is compiled once
and reused for every document, which is what makes validating each job cheap.
"""
import six

from topchef_client.exceptions import ValidationError

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Dict, Iterable, List, Union  # noqa: F401


def describe_path(path):
    # type: (Iterable[Union[str, int]]) -> str
    """``["items", 0, "x"]`` -> ``"items[0].x"``; the top level is ``"(top level)"``."""
    text = ""
    for part in path:
        if isinstance(part, six.integer_types):
            text += "[%d]" % part
        else:
            text += ("." if text else "") + six.text_type(part)
    return text or "(top level)"


class Schema(object):
    """A compiled JSON Schema that raises ``ValidationError`` for bad documents.

    :param schema: the schema, a dict.
    :param what: what the documents are, for messages (``"parameters"``).
    :raises ValidationError: the schema itself is not a valid JSON Schema.
    """

    def __init__(self, schema, what="document"):
        # type: (Dict[str, Any], str) -> None
        self.schema = schema
        self.what = what
        import jsonschema  # here, not with the module: a command that validates
        import jsonschema.exceptions  # nothing need not pay for it (40 ms)
        try:
            validator_class = jsonschema.validators.validator_for(
                schema, default=jsonschema.Draft4Validator)
            validator_class.check_schema(schema)
        except jsonschema.exceptions.SchemaError as error:
            raise ValidationError(
                "cannot validate %s: the schema is not valid JSON Schema: %s at %s"
                % (what, error.message, describe_path(error.path)),
                path=(), schema_path=error.path)
        except Exception as error:  # a "$schema" that is no string, say
            raise ValidationError("cannot validate %s: the schema is not valid JSON Schema: "
                                  "%s: %s" % (what, type(error).__name__, error))
        self._validator = validator_class(schema)

    def errors(self, instance):
        # type: (Any) -> List[Any]
        """Every problem with ``instance``, as jsonschema errors.

        :raises ValidationError: the schema passed its own check but cannot
            be applied (a ``$ref`` to nowhere, say), so nothing can be valid.
        """
        try:
            return list(self._validator.iter_errors(instance))
        except Exception as error:
            raise ValidationError("cannot validate %s: the schema cannot be applied: "
                                  "%s: %s" % (self.what, type(error).__name__, error))

    def is_valid(self, instance):
        # type: (Any) -> bool
        """Whether ``instance`` satisfies the schema (False if the schema cannot apply)."""
        try:
            return not self.errors(instance)
        except ValidationError:
            return False

    def validate(self, instance):
        # type: (Any) -> None
        """Raise ``ValidationError`` naming the failing field if ``instance`` is invalid."""
        errors = self.errors(instance)
        if not errors:
            return
        import jsonschema.exceptions
        best = jsonschema.exceptions.best_match(errors)
        raise ValidationError(
            "invalid %s at %s: %s [schema: %s]" % (
                self.what, describe_path(best.absolute_path), best.message,
                "/".join(six.text_type(part) for part in best.absolute_schema_path)),
            path=best.absolute_path, schema_path=best.absolute_schema_path,
            errors=["%s: %s" % (describe_path(error.absolute_path), error.message)
                    for error in errors])

    def __repr__(self):
        return "Schema(%r)" % (self.schema,)


def validate(instance, schema, what="document"):
    # type: (Any, Dict[str, Any], str) -> None
    """Validate ``instance`` against the dict ``schema`` once; see ``Schema``."""
    Schema(schema, what).validate(instance)
