"""Fixtures for the library's tests: servers of both generations, and workers.

One ``LocalServer`` per generation serves the whole session; each test that
asks for ``server`` gets it reset. Tests that need a server of their own
(a ManualClock, a database file, a restart) start one themselves.
"""
import pytest

from topchef_client import Connection, TopChef
from topchef_client.testing import ManualClock, ServerPool

from jobs import (ADD_ONE_REGISTRATION_SCHEMA, ADD_ONE_RESULT_SCHEMA,
                  COUNTER_REGISTRATION_SCHEMA)
from support import ScriptRunner

GENERATIONS = ("2016", "2017")
#: Quick but finite: a test that waits on a dead server fails fast.
TEST_TIMEOUT = (2.0, 5.0)
#: Fast worker settings, so the suite spends its time on behaviour, not waits.
FAST_WORKER = dict(poll_interval=0.01, max_poll_interval=0.05, failure_backoff=0.01,
                   max_failure_backoff=0.05, request_timeout=TEST_TIMEOUT,
                   exit_grace_period=1.0)


@pytest.fixture
def fast_worker_settings():
    """A copy of FAST_WORKER, for tests that make their workers themselves."""
    return dict(FAST_WORKER)


@pytest.fixture(scope="session")
def servers():
    """Lazily started session servers, by generation."""
    pool = ServerPool()
    yield pool.get
    pool.stop()


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
def topchef(server):
    with TopChef(server.url, timeout=TEST_TIMEOUT) as topchef:
        yield topchef


@pytest.fixture
def service(topchef):
    """The README's AddOne service: a value from 1 to 10 in, a value out."""
    return topchef.register_service("AddOne", "Adds one to a value",
                                    ADD_ONE_REGISTRATION_SCHEMA, ADD_ONE_RESULT_SCHEMA)


@pytest.fixture
def make_worker(server, service):
    """``make_worker(WorkerClass, **options)``: a worker for ``service``, not started.

    Fast intervals unless overridden; ``address=`` points it elsewhere (a
    proxy, another server); stopped at teardown.
    """
    made = []

    def make(worker_class, service_id=None, **options):
        settings = dict(FAST_WORKER)
        settings.update(options)
        address = settings.pop("address", None) or server.url
        worker = worker_class(address, service_id or service.id, **settings)
        made.append(worker)
        return worker

    yield make
    for worker in made:
        if worker.is_running and not worker.stop(timeout=10):
            worker.stop_now()
        worker.connection.close()


@pytest.fixture
def counting_service(topchef):
    """A service that takes any integer, so that every job can be told apart."""
    return topchef.register_service("Counter", "Adds one to any integer",
                                    COUNTER_REGISTRATION_SCHEMA, ADD_ONE_RESULT_SCHEMA)


#: Where a ManualClock starts for each test.
CLOCK_START = 1500000000.0


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
def proxy(server):
    """A FaultProxy in front of ``server``, without rules until a test adds some."""
    from topchef_client.testing.proxy import FaultProxy

    with FaultProxy(server.url) as proxy:
        yield proxy


@pytest.fixture
def scripts(tmpdir):
    """``scripts.start(source)``: run a Python script in a subprocess; killed at teardown."""
    runner = ScriptRunner(str(tmpdir))
    yield runner
    runner.kill_all()


@pytest.fixture
def connection(server):
    """A ``Connection`` to the clean server of each generation in turn."""
    with Connection(server.url, timeout=TEST_TIMEOUT) as connection:
        yield connection


@pytest.fixture
def register_worker(server):
    """``register_worker(WorkerClass, registration_schema, result_schema, **options)``.

    Registers a service with ``WorkerClass.register_service`` (AddOne's
    schemas unless given) and returns the worker bound to it, not started;
    fast intervals unless overridden; stopped at teardown.
    """
    made = []

    def register(worker_class, registration_schema=ADD_ONE_REGISTRATION_SCHEMA,
                 result_schema=ADD_ONE_RESULT_SCHEMA, name="AddOne", method="register_service",
                 **options):
        settings = dict(FAST_WORKER)
        settings.update(options)
        address = settings.pop("address", None) or server.url
        worker = getattr(worker_class, method)(address, name, "registered by a test",
                                               registration_schema, result_schema, **settings)
        made.append(worker)
        return worker

    yield register
    for worker in made:
        if worker.is_running and not worker.stop(timeout=10):
            worker.stop_now()
        worker.connection.close()
