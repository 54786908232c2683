"""The plugin importer: private namespace, own-module classes only, purge and restore."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

from qgactor.plugins.loader import (
    PluginImporter,
    PluginImportError,
    classes_defined_in,
    discover,
)


class Base:
    pass


@pytest.fixture
def importer():
    imp = PluginImporter(f"qgp_{uuid.uuid4().hex[:8]}")
    with imp:
        yield imp
    assert imp.namespace not in sys.modules


def _register(imp: PluginImporter, plugins_dir: Path) -> None:
    sources, errors = discover(plugins_dir)
    assert not errors
    for s in sources.values():
        imp.set_source(s)


def test_imports_file_and_package_under_namespace(tmp_path: Path, importer) -> None:
    base_mod = f"{__name__}"
    (tmp_path / "one.py").write_text(
        f"from {base_mod} import Base\nclass One(Base):\n    pass\nclass Helper:\n    pass\n"
    )
    pkg = tmp_path / "two"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(
        f"from {base_mod} import Base\nfrom .impl import Two\n"
        f"from {importer.namespace}.one import One  # another plugin's class: not ours\n"
    )
    (pkg / "impl.py").write_text(f"from {base_mod} import Base\nclass Two(Base):\n    pass\n")
    _register(importer, tmp_path)
    one = importer.import_plugin("one")
    assert one.__name__ == f"{importer.namespace}.one"
    assert [c.__name__ for c in classes_defined_in(importer.modules_of("one"), Base)] == ["One"]
    importer.import_plugin("two")
    mods = importer.modules_of("two")
    assert set(mods) == {f"{importer.namespace}.two", f"{importer.namespace}.two.impl"}
    assert [c.__name__ for c in classes_defined_in(mods, Base)] == ["Two"]


def test_reimport_sees_same_size_edit_in_same_second(tmp_path: Path, importer) -> None:
    f = tmp_path / "v.py"
    f.write_text("VALUE = 'aaa'\n")
    _register(importer, tmp_path)
    assert importer.import_plugin("v").VALUE == "aaa"
    f.write_text("VALUE = 'bbb'\n")  # same size, same mtime second: a .pyc cache would lie
    assert importer.import_plugin("v").VALUE == "bbb"
    assert not list(tmp_path.rglob("*.pyc"))


def test_failed_import_purged_and_old_version_restorable(tmp_path: Path, importer) -> None:
    f = tmp_path / "p.py"
    f.write_text("VALUE = 1\n")
    _register(importer, tmp_path)
    old = importer.import_plugin("p")
    saved = importer.purge("p")
    f.write_text("VALUE = 2\nraise ValueError('broken on purpose')\n")
    with pytest.raises(PluginImportError) as info:
        importer.import_plugin("p")
    assert "broken on purpose" in str(info.value)
    assert isinstance(info.value.__cause__, ValueError)
    assert importer.modules_of("p") == {}
    importer.restore("p", saved)
    assert sys.modules[f"{importer.namespace}.p"] is old and old.VALUE == 1


def test_syntax_error_reported(tmp_path: Path, importer) -> None:
    (tmp_path / "s.py").write_text("def broken(:\n")
    # the manifest reader parses the file too, so discovery reports it
    sources, errors = discover(tmp_path)
    assert "s" in errors and "line 1" in errors["s"]


def test_namespace_in_use_is_an_error(importer) -> None:
    other = PluginImporter(importer.namespace)
    with pytest.raises(RuntimeError, match="already in use"):
        other.install()


def test_auto_namespace_picks_a_free_one() -> None:
    first = PluginImporter("qgp_auto_ns", auto=True)
    second = PluginImporter("qgp_auto_ns", auto=True)
    with first, second:
        assert (first.namespace, second.namespace) == ("qgp_auto_ns", "qgp_auto_ns_2")
    assert "qgp_auto_ns" not in sys.modules and "qgp_auto_ns_2" not in sys.modules
