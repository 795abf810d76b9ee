"""``topchef_client.testing``: its public names, each imported only when asked for."""
import pytest

import topchef_client.testing
from topchef_client.testing import clock, faults, proxy, server

from support import modules_imported_by

PUBLIC_NAMES = ["LocalServer", "ServerPool", "ManualClock", "SystemClock",
                "FaultProxy", "Delay", "Hang", "Reset", "Respond", "Truncate"]
HOMES = {"LocalServer": server, "ServerPool": server, "ManualClock": clock,
         "SystemClock": clock, "FaultProxy": proxy}
#: What some of the names need and the others must not pay for.
HEAVY_MODULES = ("sqlite3", "jsonschema", "requests", "topchef_client.testing.server",
                 "topchef_client.testing.proxy")


def test_all_lists_the_public_names():
    assert topchef_client.testing.__all__ == PUBLIC_NAMES


def test_every_public_name_is_the_object_from_its_home_module():
    for name in PUBLIC_NAMES:
        home = HOMES.get(name, faults)
        assert getattr(topchef_client.testing, name) is getattr(home, name), name


def test_the_faults_are_also_importable_from_the_proxy_module():
    for name in ("Delay", "Hang", "Reset", "Respond", "Truncate"):
        assert getattr(proxy, name) is getattr(faults, name), name


def test_dir_lists_the_public_names_before_they_are_used():
    assert set(PUBLIC_NAMES) <= set(dir(topchef_client.testing))


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError):
        topchef_client.testing.LocalSever
    assert not hasattr(topchef_client.testing, "Generation2016")


def test_importing_the_package_imports_nothing_heavy():
    assert modules_imported_by("import topchef_client.testing", HEAVY_MODULES) == []


def test_from_import_of_a_name_imports_only_its_home_module():
    assert modules_imported_by("from topchef_client.testing import ManualClock, Delay",
                               HEAVY_MODULES) == []
    assert modules_imported_by("from topchef_client.testing import FaultProxy",
                               HEAVY_MODULES) == ["topchef_client.testing.proxy"]
    assert modules_imported_by("from topchef_client.testing import LocalServer",
                               HEAVY_MODULES) == ["jsonschema", "sqlite3",
                                                  "topchef_client.testing.server"]
