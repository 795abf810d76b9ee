"""pytest fixtures for testing your own workers against a local TopChef server.

Installing topchef_client registers this plugin with pytest (the ``pytest11``
entry point), so the fixtures are there in every test suite::

    from myproject.workers import AddOne

    def test_add_one_adds_one(topchef_worker, topchef_api):
        worker = topchef_worker(AddOne, {"type": "object",
                                         "properties": {"value": {"type": "integer"}}})
        job = topchef_api.submit(worker.id, {"value": 1})
        assert topchef_api.wait(job, timeout=10) == {"value": 2}

Fixtures:

``topchef_server``
    A running ``LocalServer``, emptied before each test. Generation 2017
    unless the test is marked ``@pytest.mark.topchef_generation("2016")`` or
    parametrises the fixture indirectly with ``"2016"``/``"2017"``.
``topchef_api``
    A ``TopChef`` submitter connected to ``topchef_server``.
``topchef_worker``
    ``topchef_worker(WorkerClass, job_registration_schema, job_result_schema=None,
    **options)`` registers a service on ``topchef_server``, starts a worker
    of ``WorkerClass`` for it with short polling intervals, and returns it;
    it is stopped after the test.
"""
import pytest

from topchef_client.producer import TopChef
from topchef_client.testing.server import ServerPool

#: Polling settings that keep tests quick; any of them can be overridden.
FAST_WORKER_OPTIONS = dict(poll_interval=0.01, max_poll_interval=0.1,
                           failure_backoff=0.05, max_failure_backoff=0.5,
                           request_timeout=(2.0, 10.0))


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "topchef_generation(generation): the API generation (\"2016\" or "
                   "\"2017\") of the topchef_server fixture")


@pytest.fixture(scope="session")
def _topchef_servers():
    pool = ServerPool()
    yield pool.get
    pool.stop()


@pytest.fixture
def topchef_server(request, _topchef_servers):
    """A clean local TopChef server (generation 2017 unless asked otherwise)."""
    generation = getattr(request, "param", None)
    if generation is None:
        marker = request.node.get_closest_marker("topchef_generation")
        generation = marker.args[0] if marker else "2017"
    server = _topchef_servers(str(generation))
    server.reset()
    return server


@pytest.fixture
def topchef_api(topchef_server):
    """A ``TopChef`` submitter for ``topchef_server``."""
    with TopChef(topchef_server.url) as api:
        yield api


@pytest.fixture
def topchef_worker(topchef_server):
    """Make and start workers on ``topchef_server``; they are stopped afterwards."""
    workers = []

    def start_worker(worker_class, job_registration_schema, job_result_schema=None,
                     name=None, **options):
        settings = dict(FAST_WORKER_OPTIONS)
        settings.update(options)
        worker = worker_class.register_service(
            topchef_server.url, name or worker_class.__name__,
            "registered by the topchef_worker fixture", job_registration_schema,
            job_result_schema, **settings)
        workers.append(worker)
        return worker.start(handle_sigterm=False)

    yield start_worker
    for worker in workers:
        if not worker.stop(timeout=10):
            worker.stop_now()
        worker.connection.close()
