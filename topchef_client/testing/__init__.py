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
* ``pytest_plugin``: the fixtures.
"""
import importlib
import sys
import types

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


def _load(package, name):
    """Import the public ``name`` from its home module and keep it on ``package``."""
    if name not in _HOMES:
        raise AttributeError("module %r has no attribute %r" % (__name__, name))
    value = getattr(importlib.import_module("%s.%s" % (__name__, _HOMES[name])), name)
    setattr(package, name, value)
    return value


def _names(package):
    return sorted(set(vars(package)) | set(__all__))


if sys.version_info >= (3, 7):
    def __getattr__(name):
        return _load(sys.modules[__name__], name)

    def __dir__():
        return _names(sys.modules[__name__])
else:  # pragma: no cover - exercised by the 2.7 and 3.6 test runs
    class _LazyPackage(types.ModuleType):
        """The package, resolving its public names on first use (PEP 562 before 3.7)."""

        def __getattr__(self, name):
            if name.startswith("__"):
                raise AttributeError(name)
            return _load(self, name)

        def __dir__(self):
            return _names(self)

    # Python 2.7 cannot change a module's class, so the package is replaced in
    # sys.modules by an instance that holds the same namespace.
    _package = _LazyPackage(__name__)
    _package.__dict__.update(globals())
    # Python 2.7 empties a module's namespace when the module object dies,
    # and the functions above still read theirs: keep the original alive.
    _package.__dict__["_original_module"] = sys.modules[__name__]
    sys.modules[__name__] = _package
