"""Test helpers: a faithful local TopChef server, a clock tests can move, and a
proxy that injects network faults.

::

    from topchef_client.testing import LocalServer, ManualClock, FaultProxy
"""
from topchef_client.testing.clock import ManualClock, SystemClock
from topchef_client.testing.proxy import Delay, FaultProxy, Hang, Reset, Respond, Truncate
from topchef_client.testing.server import LocalServer, ServerPool

__all__ = ["LocalServer", "ServerPool", "ManualClock", "SystemClock",
           "FaultProxy", "Delay", "Hang", "Reset", "Respond", "Truncate"]
