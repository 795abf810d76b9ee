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

``topchef_servers``
    Session-wide. ``topchef_servers(generation)`` returns the running
    ``LocalServer`` of that generation (``"2016"`` or ``"2017"``), started on
    first use and stopped at the end of the session; it is not emptied.
``topchef_server``
    A running ``LocalServer`` from ``topchef_servers``, emptied before each
    test. Generation 2017 unless the test is marked
    ``@pytest.mark.topchef_generation("2016")`` or parametrises the fixture
    indirectly with ``"2016"``/``"2017"``. A ``conftest.py`` may override it
    to point the other fixtures at another server.
``topchef_api``
    A ``TopChef`` submitter connected to ``topchef_server``, whose requests
    time out after ``REQUEST_TIMEOUT`` and whose ``wait`` and ``wait_all``
    look at the server every few milliseconds at first
    (``topchef_client.testing.submitter.LocalTopChef``).
``topchef_worker``
    ``topchef_worker(WorkerClass, job_registration_schema=None, job_result_schema=None,
    name=None, service_id=None, address=None, start=True, **options)`` makes a
    worker of ``WorkerClass`` and returns it; every worker it made is stopped
    after the test. It registers a service on ``topchef_server`` with the
    schemas (named ``name``, the class name by default), or binds the worker
    to the existing service ``service_id`` (then the schemas are not needed).
    ``address`` is the URL the worker talks to, ``topchef_server.url`` by
    default: say a ``FaultProxy`` in front of it. ``start=False`` returns the
    worker not started, for ``burst()``, ``process_one()`` or a ``start()`` of
    your own. ``options`` go to the worker (``threads``, ``poll_interval``...)
    over ``FAST_WORKER_OPTIONS``.

The plugin imports the library and the local server only when a fixture is
used: a pytest session that uses none of them pays almost nothing for it.
"""
import pytest

#: Seconds to connect and to read an answer: the local server answers at
#: once, so a request that takes longer fails the test soon.
REQUEST_TIMEOUT = (2.0, 5.0)
#: Worker settings that keep tests quick: an empty queue is polled at least
#: every 0.01 s, a failure retried within 0.01 s, so a job submitted to a
#: running worker is taken within milliseconds (an idle worker costs a few
#: per cent of a core against the local server). Any of them can be
#: overridden per worker.
FAST_WORKER_OPTIONS = dict(poll_interval=0.002, max_poll_interval=0.01,
                           failure_backoff=0.002, max_failure_backoff=0.01,
                           request_timeout=REQUEST_TIMEOUT, exit_grace_period=1.0)

#: Seconds a graceful stop may take at teardown before the worker is stopped at once.
STOP_TIMEOUT = 10.0


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "topchef_generation(generation): the API generation (\"2016\" or "
                   "\"2017\") of the topchef_server fixture")


@pytest.fixture(scope="session")
def topchef_servers():
    """``topchef_servers(generation)``: the session's running server of that generation."""
    from topchef_client.testing.server import ServerPool

    pool = ServerPool()
    yield pool.get
    pool.stop()


@pytest.fixture
def topchef_server(request, topchef_servers):
    """A clean local TopChef server (generation 2017 unless asked otherwise)."""
    generation = getattr(request, "param", None)
    if generation is None:
        marker = request.node.get_closest_marker("topchef_generation")
        generation = marker.args[0] if marker else "2017"
    server = topchef_servers(str(generation))
    server.reset()
    return server


@pytest.fixture
def topchef_api(topchef_server):
    """A ``TopChef`` submitter for ``topchef_server``, quick to see a job finish."""
    from topchef_client.testing.submitter import LocalTopChef

    with LocalTopChef(topchef_server.url, timeout=REQUEST_TIMEOUT) as api:
        yield api


@pytest.fixture
def topchef_worker(topchef_server):
    """Make workers for ``topchef_server``; each is stopped after the test."""
    workers = []

    def make_worker(worker_class, job_registration_schema=None, job_result_schema=None,
                    name=None, service_id=None, address=None, start=True, **options):
        settings = dict(FAST_WORKER_OPTIONS)
        settings.update(options)
        address = address or topchef_server.url
        if service_id is not None:
            worker = worker_class(address, service_id, **settings)
        elif job_registration_schema is None:
            raise TypeError("topchef_worker needs a job_registration_schema to register "
                            "a service, or the service_id of an existing one")
        else:
            worker = worker_class.register_service(
                address, name or worker_class.__name__,
                "registered by the topchef_worker fixture", job_registration_schema,
                job_result_schema, **settings)
        workers.append(worker)
        return worker.start(handle_sigterm=False) if start else worker

    yield make_worker
    for worker in workers:
        stop_worker(worker)


def stop_worker(worker, timeout=STOP_TIMEOUT):
    """Stop ``worker`` gracefully, at once if that takes over ``timeout`` s, and close it."""
    if worker.is_running and not worker.stop(timeout=timeout):
        worker.stop_now()
    worker.connection.close()
