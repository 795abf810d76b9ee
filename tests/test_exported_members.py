"""The public names of ``topchef_client``: changing them must change this test too."""
import inspect

import topchef_client
from topchef_client import api, exceptions, models, producer, worker

#: ``__all__``, group by group, in order.
EXPECTED_GROUPS = [
    ("Running jobs", ["Client", "Retry"]),
    ("Submitting jobs", ["TopChef", "Connection"]),
    ("Models", ["Service", "Job", "REGISTERED", "WORKING", "COMPLETED", "ERROR", "STATUSES"]),
    ("Exceptions", ["TopChefError", "NetworkError", "ResponseTimeout", "ResponseError",
                    "BadRequest", "NotFound", "ServiceNotFound", "JobNotFound", "ServerError",
                    "ProtocolError", "ValidationError", "ProcessingError", "TimeLimitExceeded",
                    "JobCrashed", "JobFailed", "JobWaitTimeout"]),
]
#: Where each public name is defined.
HOMES = {"Client": worker, "TopChef": producer, "Connection": api}


def test_all_lists_the_public_names_group_by_group():
    assert topchef_client.__all__ == [name for _, names in EXPECTED_GROUPS for name in names]


def test_all_has_no_duplicates():
    assert len(set(topchef_client.__all__)) == len(topchef_client.__all__)


def test_the_source_marks_each_group_with_a_comment():
    source = inspect.getsource(topchef_client)
    positions = [source.index("# " + group) for group, _ in EXPECTED_GROUPS]
    assert positions == sorted(positions)


def test_every_name_in_all_is_the_object_from_its_home_module():
    for name in topchef_client.__all__:
        home = HOMES.get(name) or (exceptions if hasattr(exceptions, name) else models)
        assert getattr(topchef_client, name) is getattr(home, name), name


def test_every_public_attribute_that_is_not_a_module_is_in_all():
    public = set(name for name in dir(topchef_client) if not name.startswith("_") and
                 not inspect.ismodule(getattr(topchef_client, name)))
    assert public == set(topchef_client.__all__)


def test_the_exceptions_in_all_are_every_exception_of_the_library():
    exported = set(name for name in topchef_client.__all__
                   if inspect.isclass(getattr(topchef_client, name)) and
                   issubclass(getattr(topchef_client, name), BaseException))
    assert "Retry" in exported  # raised by run(), not by the library, yet public
    defined = set(name for name, value in vars(exceptions).items()
                  if inspect.isclass(value) and issubclass(value, BaseException))
    assert exported == defined


def test_the_statuses_in_all_are_the_model_statuses():
    assert topchef_client.STATUSES == tuple(getattr(topchef_client, name) for name in (
        "REGISTERED", "WORKING", "COMPLETED", "ERROR"))


def test_the_version_is_a_dotted_string():
    parts = topchef_client.__version__.split(".")
    assert len(parts) == 3 and all(part.isdigit() for part in parts)
