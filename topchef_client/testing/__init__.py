"""Test helpers: a faithful local TopChef server and a clock tests can move.

::

    from topchef_client.testing import LocalServer, ManualClock
"""
from topchef_client.testing.clock import ManualClock, SystemClock
from topchef_client.testing.server import LocalServer

__all__ = ["LocalServer", "ManualClock", "SystemClock"]
