"""The pytest plugin: what a user's own test suite gets from installing the package."""
import os

import pytest

from support import REPO_ROOT

pytest_plugins = ["pytester"]

PLUGIN = "topchef_client.testing.pytest_plugin"

USER_TESTS = '''
import pytest

from topchef_client import Client, COMPLETED

SCHEMA = {"type": "object", "properties": {"value": {"type": "integer"}},
          "required": ["value"]}


class AddOne(Client):
    def run(self, parameters):
        return {"value": parameters["value"] + 1}


def test_a_worker_of_my_class_runs_my_jobs(topchef_worker, topchef_api):
    worker = topchef_worker(AddOne, SCHEMA)
    job = topchef_api.submit(worker.id, {"value": 1})
    assert topchef_api.wait(job, timeout=10) == {"value": 2}


def test_the_server_is_2017_by_default(topchef_server, topchef_api):
    assert topchef_server.generation == "2017"
    assert topchef_api.connection.generation == "2017"


@pytest.mark.topchef_generation("2016")
def test_a_marker_picks_the_2016_generation(topchef_worker, topchef_api, topchef_server):
    assert topchef_server.generation == "2016"
    worker = topchef_worker(AddOne, SCHEMA)
    job = topchef_api.submit(worker.id, {"value": 41})
    assert topchef_api.wait(job, timeout=10) == {"value": 42}


@pytest.mark.parametrize("topchef_server", ["2016", "2017"], indirect=True)
def test_indirect_parametrisation_covers_both(topchef_server, topchef_api):
    assert topchef_api.connection.generation == topchef_server.generation


def test_every_test_starts_with_an_empty_server(topchef_api):
    assert topchef_api.services() == []


def test_workers_are_stopped_after_the_test(topchef_worker):
    pytest.worker = topchef_worker(AddOne, SCHEMA)


def test_the_previous_test_s_worker_has_stopped():
    assert not pytest.worker.is_running
'''


def _entry_point_installed():
    """Whether the package is installed, so pytest finds the plugin by itself."""
    try:
        from importlib.metadata import entry_points
    except ImportError:  # Python 2.7 to 3.7
        import pkg_resources
        return any(entry.module_name == PLUGIN
                   for entry in pkg_resources.iter_entry_points("pytest11"))
    found = entry_points()
    group = (found.select(group="pytest11") if hasattr(found, "select")
             else found.get("pytest11", []))
    return any(entry.value == PLUGIN for entry in group)


@pytest.fixture
def user_suite(request):
    """A throwaway test directory (``pytester``, or ``testdir`` on old pytest)."""
    for name in ("pytester", "testdir"):
        try:
            return request.getfixturevalue(name)
        except Exception:
            continue
    pytest.fail("neither the pytester nor the testdir fixture is available")


def test_a_user_suite_can_test_its_own_worker_with_the_fixtures(user_suite, monkeypatch):
    # Where the package is not installed (a checkout), the subprocess finds it
    # on the path; where it is, this changes nothing.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [REPO_ROOT] + [part for part in [os.environ.get("PYTHONPATH")] if part]))
    user_suite.makepyfile(test_my_worker=USER_TESTS)
    arguments = [] if _entry_point_installed() else ["-p", PLUGIN]

    result = user_suite.runpytest_subprocess(*arguments)

    result.assert_outcomes(passed=8)


def test_installing_the_package_registers_the_plugin_with_pytest():
    import topchef_client
    if "site-packages" not in topchef_client.__file__:
        pytest.skip("topchef_client is imported from a checkout here, not installed; "
                    "tox installs it")
    assert _entry_point_installed()
