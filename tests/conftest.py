"""Fixtures for the library's tests: servers of both generations, and workers.

They stand on the package's own pytest plugin
(``topchef_client.testing.pytest_plugin``): its session servers
(``topchef_servers``, one ``LocalServer`` per generation), its fast worker
settings and its ``topchef_worker``, which makes the workers and stops them
at teardown. What this file adds is the names the tests use, and the
generation: ``server`` is the session server of each generation in turn,
reset for the test, and ``topchef_server`` is overridden to be it, so the
plugin's fixtures follow the same parametrisation.

Tests that need a server of their own (a ManualClock, a database file, a
restart) start one themselves.
"""
import pytest

from topchef_client import Connection, TopChef
from topchef_client.testing import ManualClock, ServerPool
from topchef_client.testing import pytest_plugin
from topchef_client.testing.pytest_plugin import FAST_WORKER_OPTIONS, stop_worker

from jobs import (ADD_ONE_REGISTRATION_SCHEMA, ADD_ONE_RESULT_SCHEMA,
                  COUNTER_REGISTRATION_SCHEMA)
import console_scripts
from support import CLOCK_START, GENERATIONS, TEST_TIMEOUT, ScriptRunner


def pytest_configure(config):
    # Installed, the package registers the plugin through its entry point; a
    # checkout run without installing it gets the plugin from here.
    if not config.pluginmanager.is_registered(pytest_plugin):
        config.pluginmanager.register(pytest_plugin, "topchef_client")


@pytest.fixture
def fast_worker_settings():
    """A copy of the plugin's FAST_WORKER_OPTIONS, for tests that make their workers themselves."""
    return dict(FAST_WORKER_OPTIONS)


@pytest.fixture(scope="session")
def servers(topchef_servers):
    """Lazily started session servers, by generation: ``servers("2016")``."""
    return topchef_servers


@pytest.fixture(params=GENERATIONS)
def generation(request):
    return request.param


@pytest.fixture
def server(servers, generation):
    """A clean local server of each generation in turn."""
    server = servers(generation)
    server.reset()
    return server


@pytest.fixture
def topchef_server(server):
    """The plugin's fixtures work on ``server``, of each generation in turn."""
    return server


@pytest.fixture
def topchef(topchef_api):
    """A ``TopChef`` submitter for ``server``: the plugin's ``topchef_api``."""
    return topchef_api


@pytest.fixture
def service(topchef):
    """The README's AddOne service: a value from 1 to 10 in, a value out."""
    return topchef.register_service("AddOne", "Adds one to a value",
                                    ADD_ONE_REGISTRATION_SCHEMA, ADD_ONE_RESULT_SCHEMA)


@pytest.fixture
def make_worker(topchef_worker, service):
    """``make_worker(WorkerClass, service_id=None, **options)``: a worker, not started.

    Bound to ``service`` unless ``service_id`` says otherwise; fast settings
    unless overridden; ``address=`` points it elsewhere (a proxy, another
    server); stopped at teardown.
    """
    def make(worker_class, service_id=None, **options):
        return topchef_worker(worker_class, service_id=service_id or service.id, start=False,
                              **options)

    return make


@pytest.fixture
def register_worker(request, topchef_worker, server):
    """``register_worker(WorkerClass, registration_schema, result_schema, **options)``.

    Registers a service with ``WorkerClass.register_service`` (or the class
    method named by ``method``), AddOne's schemas unless given, and returns
    the worker bound to it, not started; fast settings unless overridden;
    stopped at teardown.
    """
    def register(worker_class, registration_schema=ADD_ONE_REGISTRATION_SCHEMA,
                 result_schema=ADD_ONE_RESULT_SCHEMA, name="AddOne", method="register_service",
                 **options):
        if method == "register_service":
            return topchef_worker(worker_class, registration_schema, result_schema, name=name,
                                  start=False, **options)
        # Another name for registering (the original client's new_service).
        settings = dict(FAST_WORKER_OPTIONS, **options)
        address = settings.pop("address", None) or server.url
        worker = getattr(worker_class, method)(address, name, "registered by a test",
                                               registration_schema, result_schema, **settings)
        request.addfinalizer(lambda: stop_worker(worker))
        return worker

    return register


@pytest.fixture
def counting_service(topchef):
    """A service that takes any integer, so that every job can be told apart."""
    return topchef.register_service("Counter", "Adds one to any integer",
                                    COUNTER_REGISTRATION_SCHEMA, ADD_ONE_RESULT_SCHEMA)


@pytest.fixture(scope="session")
def clocked_servers():
    """Lazily started session servers with a ManualClock, by generation."""
    pool = ServerPool(make_clock=lambda: ManualClock(CLOCK_START))
    yield pool.get
    pool.stop()


@pytest.fixture
def clocked_server(clocked_servers, generation):
    """A clean server of each generation whose clock moves only when told to."""
    server = clocked_servers(generation)
    server.reset()
    server.clock.set(CLOCK_START)
    return server


@pytest.fixture
def clocked_api(clocked_server):
    """A ``TopChef`` client of ``clocked_server``."""
    with TopChef(clocked_server.url, timeout=TEST_TIMEOUT) as topchef:
        yield topchef


@pytest.fixture
def proxy(server):
    """A FaultProxy in front of ``server``, without rules until a test adds some."""
    from topchef_client.testing import FaultProxy

    with FaultProxy(server.url) as proxy:
        yield proxy


@pytest.fixture
def scripts(tmpdir):
    """``scripts.start(source)``: run a Python script in a subprocess; killed at teardown."""
    runner = ScriptRunner(str(tmpdir))
    yield runner
    runner.kill_all()


@pytest.fixture
def cli():
    """``cli(script, *argv)`` runs a console script to its end; ``cli.start`` starts it."""
    runner = console_scripts.Runner()
    yield runner
    runner.kill_all()


@pytest.fixture
def connection(server):
    """A ``Connection`` to the clean server of each generation in turn."""
    with Connection(server.url, timeout=TEST_TIMEOUT) as connection:
        yield connection
