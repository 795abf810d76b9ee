"""``exceptions``: one root, families under it, builtin bases where meanings overlap."""
import inspect
import re

import pytest
import six
from six.moves import builtins

from topchef_client import exceptions
from topchef_client.exceptions import (
    BadRequest, JobCrashed, JobFailed, JobNotFound, JobWaitTimeout, NetworkError, NotFound,
    ProcessingError, ProtocolError, ResponseError, ResponseTimeout, Retry, ServerError,
    ServiceNotFound, TimeLimitExceeded, TopChefError, ValidationError, excerpt)
from topchef_client.models import Job

ALL = [TopChefError, NetworkError, ResponseTimeout, ResponseError, BadRequest, NotFound,
       ServiceNotFound, JobNotFound, ServerError, ProtocolError, ValidationError,
       ProcessingError, TimeLimitExceeded, JobCrashed, JobFailed, JobWaitTimeout]


@pytest.mark.parametrize("error_class, bases", [
    (NetworkError, (TopChefError, IOError)),
    (ResponseTimeout, (NetworkError,)),
    (ResponseError, (TopChefError,)),
    (BadRequest, (ResponseError, ValueError)),
    (NotFound, (ResponseError, LookupError)),
    (ServiceNotFound, (NotFound,)),
    (JobNotFound, (NotFound,)),
    (ServerError, (ResponseError,)),
    (ProtocolError, (TopChefError,)),
    (ValidationError, (TopChefError, ValueError)),
    (ProcessingError, (TopChefError, RuntimeError)),
    (TimeLimitExceeded, (ProcessingError,)),
    (JobCrashed, (ProcessingError,)),
    (JobFailed, (TopChefError,)),
    (JobWaitTimeout, (TopChefError,)),
])
def test_each_exception_has_its_place_in_the_tree(error_class, bases):
    assert error_class.__bases__ == bases


def test_every_exception_of_the_module_is_known_here():
    defined = set(value for value in vars(exceptions).values()
                  if inspect.isclass(value) and issubclass(value, BaseException))
    assert defined == set(ALL + [Retry])


def test_retry_is_raised_by_run_not_by_the_library_so_it_stands_outside_the_root():
    assert Retry.__bases__ == (Exception,)
    assert Retry.__doc__.startswith("Raised by ``run``")
    assert "\n    Retry " in exceptions.__doc__


@pytest.mark.parametrize("delay", [-1, float("nan"), float("inf"), "10"])
def test_a_retry_delay_that_is_no_finite_number_of_seconds_is_refused_naming_it(delay):
    with pytest.raises((TypeError, ValueError)) as caught:
        Retry(delay=delay)
    assert "delay" in str(caught.value)


def test_a_time_limit_exceeded_can_be_made_without_a_message():
    assert "time limit" in str(TimeLimitExceeded())


def drawn_tree():
    """``{name: (parent name, (builtin base names))}`` from the module docstring's tree."""
    tree, parents = {}, []
    for line in exceptions.__doc__.split("::", 1)[1].strip("\n").split("\n\n")[0].splitlines():
        found = re.match(r"^(.*?)(\w+)(?: \(([\w, ]+)\))?(?:  |$)", line)
        depth = (len(found.group(1)) - 4) // 5
        del parents[depth:]
        builtin = tuple(found.group(3).split(", ")) if found.group(3) else ()
        tree[found.group(2)] = (parents[-1] if parents else None, builtin)
        parents.append(found.group(2))
    return tree


@pytest.mark.parametrize("error_class", ALL, ids=lambda error_class: error_class.__name__)
def test_the_module_docstring_draws_each_exception_under_its_bases(error_class):
    parent = [base.__name__ for base in error_class.__bases__ if issubclass(base, TopChefError)]
    builtin = tuple(base for base in error_class.__bases__
                    if not issubclass(base, TopChefError) and base is not Exception)
    drawn_parent, drawn_builtin = drawn_tree()[error_class.__name__]
    assert drawn_parent == (parent or [None])[0]
    # IOError is OSError on Python 3: compare the classes, not their names.
    assert tuple(getattr(builtins, name) for name in drawn_builtin) == builtin


def test_the_module_docstring_draws_no_other_exception():
    assert set(drawn_tree()) == set(error_class.__name__ for error_class in ALL)


@pytest.mark.parametrize("error_class", ALL, ids=lambda error_class: error_class.__name__)
def test_each_exception_says_when_it_is_raised(error_class):
    assert error_class.__doc__.startswith("Raised when")


@pytest.mark.parametrize("error_class", ALL, ids=lambda error_class: error_class.__name__)
def test_no_exception_shadows_a_builtin_name(error_class):
    assert not hasattr(builtins, error_class.__name__)


@pytest.mark.parametrize("error_class", ALL, ids=lambda error_class: error_class.__name__)
def test_catching_topchef_error_catches_every_exception(error_class):
    arguments = {JobFailed: ("failed", Job("a")), JobWaitTimeout: ("late", [])}
    with pytest.raises(TopChefError):
        raise error_class(*arguments.get(error_class, ("message",)))


def test_an_exchange_error_carries_method_url_status_and_body():
    error = ServerError("the server failed: GET http://h/jobs answered 500: oops",
                        method="GET", url="http://h/jobs", status_code=500, body="oops")
    assert (str(error), error.message, error.method, error.url, error.status_code,
            error.body) == ("the server failed: GET http://h/jobs answered 500: oops",
                            "the server failed: GET http://h/jobs answered 500: oops",
                            "GET", "http://h/jobs", 500, "oops")
    assert error.args == ("the server failed: GET http://h/jobs answered 500: oops",)


def test_a_message_that_is_not_ascii_can_be_shown_as_str_and_as_text():
    error = ProtocolError(u"the answer is not JSON: caf\u00e9")
    assert six.text_type(error) == u"the answer is not JSON: caf\u00e9"
    assert str(error) == (u"the answer is not JSON: caf\u00e9".encode("utf-8") if six.PY2
                          else u"the answer is not JSON: caf\u00e9")


def test_an_error_without_an_exchange_has_none_for_its_details():
    error = ProtocolError("odd")
    assert (error.method, error.url, error.status_code, error.body) == (None,) * 4


def test_a_validation_error_keeps_the_paths_and_every_problem():
    error = ValidationError("bad", path=("points", 1, "x"), schema_path=("properties",),
                            errors=["points[1].x: bad", "name: bad"], status_code=400)
    assert (error.path, error.schema_path, error.errors, error.status_code) == (
        ["points", 1, "x"], ["properties"], ["points[1].x: bad", "name: bad"], 400)
    assert error.context is error.errors


def test_a_validation_error_without_details_lists_its_message_as_the_problem():
    error = ValidationError("bad parameters")
    assert (error.path, error.schema_path, error.errors) == ([], [], ["bad parameters"])


def test_job_failed_holds_the_job():
    job = Job("a", "ERROR")
    assert JobFailed("job a failed", job).job is job


def test_job_wait_timeout_holds_the_unfinished_jobs():
    jobs = (Job("a", "WORKING"), Job("b", "REGISTERED"))
    assert JobWaitTimeout("late", iter(jobs)).jobs == list(jobs)


def test_an_excerpt_collapses_whitespace_to_one_line():
    assert excerpt("<html>\n  <body>\tNot   Found</body>\n</html>\n") == (
        "<html> <body> Not Found</body> </html>")


def test_an_excerpt_cuts_a_long_body_short():
    assert excerpt("x" * 500, limit=10) == "xxxxxxxxxx..."
    assert len(excerpt("word " * 200)) == 203


def test_an_excerpt_decodes_bytes_replacing_what_does_not_decode():
    assert excerpt(b"caf\xc3\xa9 \xff") == u"caf\u00e9 \ufffd"


@pytest.mark.parametrize("body", [None, b"", ""])
def test_an_excerpt_of_nothing_is_empty(body):
    assert excerpt(body) == ""
