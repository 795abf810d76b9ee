"""The pytest plugin: what a user's own test suite gets from installing the package."""

import pytest

from support import modules_imported_by, subprocess_environment

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


def test_a_worker_made_with_start_false_is_not_started(topchef_worker, topchef_api):
    worker = topchef_worker(AddOne, SCHEMA, start=False)
    assert not worker.is_running
    job = topchef_api.submit(worker.id, {"value": 2})
    assert worker.burst().jobs_completed == 1
    assert topchef_api.wait(job, timeout=10) == {"value": 3}


def test_a_worker_can_join_an_existing_service(topchef_worker, topchef_api):
    service = topchef_api.register_service("Mine", "registered by the test", SCHEMA)
    worker = topchef_worker(AddOne, service_id=service.id)
    assert worker.id == service.id
    job = topchef_api.submit(service, {"value": 5})
    assert topchef_api.wait(job, timeout=10) == {"value": 6}


def test_a_worker_can_talk_through_a_fault_proxy(topchef_worker, topchef_api, topchef_server):
    from topchef_client.testing import FaultProxy, Respond

    with FaultProxy(topchef_server.url) as proxy:
        proxy.add_rule(Respond(503), method="GET", path="/queue$", times=2)
        worker = topchef_worker(AddOne, SCHEMA, address=proxy.url)
        job = topchef_api.submit(worker.id, {"value": 7})
        assert topchef_api.wait(job, timeout=10) == {"value": 8}
        worker.stop(timeout=10)
    assert [record.fault for record in proxy.requests].count("Respond") == 2


def test_topchef_servers_hands_out_the_session_servers(topchef_servers, topchef_server):
    assert topchef_servers("2017") is topchef_server
    assert topchef_servers("2016").generation == "2016"


def test_a_worker_needs_a_schema_or_a_service(topchef_worker):
    with pytest.raises(TypeError):
        topchef_worker(AddOne)
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
def user_suite(request, monkeypatch):
    """A throwaway test directory (``pytester``, or ``testdir`` on old pytest).

    Where the package is not installed (a checkout), its subprocesses find
    it on the path; where it is, this changes nothing.
    """
    monkeypatch.setenv("PYTHONPATH", subprocess_environment()["PYTHONPATH"])
    for name in ("pytester", "testdir"):
        try:
            return request.getfixturevalue(name)
        except Exception:
            continue
    pytest.fail("neither the pytester nor the testdir fixture is available")


def run_user_suite(user_suite):
    """Run pytest on the user's suite in a subprocess, with the plugin as installed.

    Hypothesis's plugin, which these suites do not use, is left out: loading
    it imports all of hypothesis, most of what such a session would cost.
    """
    arguments = ["-p", "no:hypothesispytest"]
    if not _entry_point_installed():
        arguments += ["-p", PLUGIN]
    return user_suite.runpytest_subprocess(*arguments)


def test_a_user_suite_can_test_its_own_worker_with_the_fixtures(user_suite):
    user_suite.makepyfile(test_my_worker=USER_TESTS)

    result = run_user_suite(user_suite)

    result.assert_outcomes(passed=13)


def test_installing_the_package_registers_the_plugin_with_pytest():
    import topchef_client
    if "site-packages" not in topchef_client.__file__:
        pytest.skip("topchef_client is imported from a checkout here, not installed; "
                    "tox installs it")
    assert _entry_point_installed()


# --- what loading the plugin costs -----------------------------------------------------

#: Modules that loading the plugin must not import: what a pytest session
#: pays for having the package installed stays small, and a Python built
#: without sqlite3 can still run pytest.
HEAVY_MODULES = ("sqlite3", "requests", "jsonschema", "topchef_client.api",
                 "topchef_client.worker", "topchef_client.producer",
                 "topchef_client.testing.server", "topchef_client.testing.proxy")

SESSION_WITHOUT_FIXTURES = '''
import sys

HEAVY_MODULES = %r


def test_nothing_heavy_is_imported_by_a_session_that_uses_no_topchef_fixture():
    assert [name for name in HEAVY_MODULES if name in sys.modules] == []
''' % (HEAVY_MODULES,)


def test_importing_the_plugin_imports_neither_the_library_nor_sqlite3_requests_or_jsonschema():
    assert modules_imported_by("import pytest, " + PLUGIN, HEAVY_MODULES) == []


def test_a_pytest_session_that_uses_no_fixture_imports_none_of_them(user_suite):
    user_suite.makepyfile(test_light=SESSION_WITHOUT_FIXTURES)

    result = run_user_suite(user_suite)

    result.assert_outcomes(passed=1)
