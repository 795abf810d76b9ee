"""Test helpers: a faithful local TopChef server, a clock tests can move, and a
proxy that injects network faults.

::

    from topchef_client.testing import LocalServer, ManualClock, FaultProxy

The names below are imported on first use, not with the package: the pytest
plugin (``topchef_client.testing.pytest_plugin``), which pytest loads in
every session of a project that installs the package, must cost next to
nothing there, and the local server needs sqlite3 and jsonschema.

The modules, for readers:

* ``server``: ``LocalServer`` and ``ServerPool``; the HTTP side of the server;
* ``app2016`` and ``app2017``: what each API generation answers, on top of
  ``application`` (dispatch), ``web`` (Flask's ways), ``fields`` (marshmallow's
  messages) and ``storage`` (SQLite);
* ``clock``: ``SystemClock`` and ``ManualClock``;
* ``proxy``: ``FaultProxy``; ``faults``: what it does to requests; ``relay``:
  one of its client connections;
* ``http11``: reading HTTP/1.1 messages, for the proxy and the server;
* ``pytest_plugin``: the fixtures; ``submitter``: the ``TopChef`` of ``topchef_api``,
  whose waits poll a local server every few milliseconds.
"""
from topchef_client.lazy import load_names_lazily as _load_names_lazily

__all__ = ["LocalServer", "ServerPool", "ManualClock", "SystemClock",
           "FaultProxy", "Delay", "Hang", "Reset", "Respond", "Truncate"]

#: The module each public name comes from.
_HOMES = {
    "LocalServer": "server", "ServerPool": "server",
    "ManualClock": "clock", "SystemClock": "clock",
    "FaultProxy": "proxy",
    "Delay": "faults", "Hang": "faults", "Reset": "faults", "Respond": "faults",
    "Truncate": "faults",
}

MYPY = False
if MYPY:  # what a type checker and an editor see, without the lazy loading
    from topchef_client.testing.clock import ManualClock, SystemClock  # noqa: F401
    from topchef_client.testing.faults import Delay, Hang, Reset, Respond, Truncate  # noqa: F401
    from topchef_client.testing.proxy import FaultProxy  # noqa: F401
    from topchef_client.testing.server import LocalServer, ServerPool  # noqa: F401

_load_names_lazily(__name__, dict(
    (name, "%s.%s" % (__name__, home)) for name, home in _HOMES.items()))
