"""Fixtures for the local TopChef server's conformance suite.

One LocalServer per (generation, clock kind) is started lazily for the whole session and
``reset()`` before each test that uses it. The fixtures hand out a ``TopChef`` helper
(``topchef_conformance.TopChef``), which carries the server, its clock and shortcuts.

* ``topchef``: parametrised over both generations, real clock.
* ``topchef_2016`` / ``topchef_2017``: one generation, real clock.
* ``clocked_topchef`` (parametrised), ``clocked_topchef_2016``, ``clocked_topchef_2017``:
  a ManualClock set to ``START`` before each test.
"""
import pytest

from topchef_conformance import GENERATIONS, START, TopChef


@pytest.fixture(scope="session")
def _local_servers():
    from topchef_client.testing import ManualClock, ServerPool

    pools = {False: ServerPool(), True: ServerPool(make_clock=lambda: ManualClock(start=START))}
    yield lambda generation, clocked: pools[clocked].get(generation)
    for pool in pools.values():
        pool.stop()


def _fresh_topchef(request, generation, clocked):
    server = request.getfixturevalue("_local_servers")(generation, clocked)
    if clocked:
        server.clock.set(START)
    server.reset()
    helper = TopChef(server)
    request.addfinalizer(helper.close)
    return helper


@pytest.fixture(params=GENERATIONS)
def topchef(request):
    return _fresh_topchef(request, request.param, clocked=False)


@pytest.fixture
def topchef_2016(request):
    return _fresh_topchef(request, "2016", clocked=False)


@pytest.fixture
def topchef_2017(request):
    return _fresh_topchef(request, "2017", clocked=False)


@pytest.fixture(params=GENERATIONS)
def clocked_topchef(request):
    return _fresh_topchef(request, request.param, clocked=True)


@pytest.fixture
def clocked_topchef_2016(request):
    return _fresh_topchef(request, "2016", clocked=True)


@pytest.fixture
def clocked_topchef_2017(request):
    return _fresh_topchef(request, "2017", clocked=True)


@pytest.fixture
def service_id(topchef):
    """A service registered with the default schemas on the parametrised server."""
    return topchef.register_service()
