"""Fixtures for the local TopChef server's conformance suite.

The servers are the session's, from ``tests/conftest.py``: ``servers`` (the
real clock) and ``clocked_servers`` (a ManualClock), one per generation,
``reset()`` before each test that uses one. The fixtures hand out a
``TopChef`` helper (``topchef_conformance.TopChef``), which carries the
server, its clock and shortcuts.

* ``topchef``: parametrised over both generations, real clock.
* ``topchef_2016`` / ``topchef_2017``: one generation, real clock.
* ``clocked_topchef`` (parametrised), ``clocked_topchef_2016``, ``clocked_topchef_2017``:
  a ManualClock set to ``START`` before each test.
"""
import pytest

from topchef_conformance import GENERATIONS, START, TopChef


def _helper_fixture(name, generation=None, clocked=False):
    """A fixture that hands out a fresh helper for a server of ``generation``.

    Without a generation the fixture is parametrised over both.
    """
    def fresh_topchef(request):
        pool = request.getfixturevalue("clocked_servers" if clocked else "servers")
        server = pool(generation or request.param)
        server.reset()
        if clocked:
            server.clock.set(START)
        helper = TopChef(server)
        request.addfinalizer(helper.close)
        return helper

    return pytest.fixture(params=None if generation else GENERATIONS, name=name)(fresh_topchef)


topchef = _helper_fixture("topchef")
topchef_2016 = _helper_fixture("topchef_2016", "2016")
topchef_2017 = _helper_fixture("topchef_2017", "2017")
clocked_topchef = _helper_fixture("clocked_topchef", clocked=True)
clocked_topchef_2016 = _helper_fixture("clocked_topchef_2016", "2016", clocked=True)
clocked_topchef_2017 = _helper_fixture("clocked_topchef_2017", "2017", clocked=True)


@pytest.fixture
def service_id(topchef):
    """A service registered with the default schemas on the parametrised server."""
    return topchef.register_service()
