"""Packages whose public names are imported on first use, on every Python.

A package calls ``load_names_lazily(__name__, homes)`` at the end of its
``__init__``. Python 3.7+ does it with a module ``__getattr__`` (PEP 562);
before, the package is replaced in ``sys.modules`` by a module object of a
class that resolves the names, and that holds the same namespace.
"""
import importlib
import sys
import types

MYPY = False
if MYPY:  # type annotations, in comments that Python 2.7 can read
    from typing import Any, Dict, List  # noqa: F401


def load_names_lazily(package_name, homes):
    # type: (str, Dict[str, str]) -> None
    """Make each name of ``homes`` load from its module (``homes[name]``) when first used."""
    package = sys.modules[package_name]

    def load(name, target):
        if name not in homes:
            raise AttributeError("module %r has no attribute %r" % (package_name, name))
        value = getattr(importlib.import_module(homes[name]), name)
        setattr(target, name, value)  # the next use finds it at once
        return value

    def names(target):
        return sorted(set(vars(target)) | set(homes))

    if sys.version_info >= (3, 7):
        def getattr_(name):
            return load(name, sys.modules[package_name])

        def dir_():
            return names(sys.modules[package_name])

        package.__getattr__, package.__dir__ = getattr_, dir_  # type: ignore
        return

    class LazyPackage(types.ModuleType):
        def __getattr__(self, name):
            if name.startswith("__"):
                raise AttributeError(name)
            return load(name, self)

        def __dir__(self):
            return names(self)

    replacement = LazyPackage(package_name)
    replacement.__dict__.update(vars(package))
    # Python 2.7 empties the namespace of a module object that dies: keep the
    # original alive, since the package's own functions still read it.
    replacement.__dict__["_original_module"] = package
    sys.modules[package_name] = replacement
