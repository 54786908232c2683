"""Manifests and dependency planning: load order, cycles, missing/mismatched packages and plugins."""

from __future__ import annotations

from pathlib import Path

import pytest

from qgactor.plugins.dependencies import plan_load
from qgactor.plugins.loader import discover
from qgactor.plugins.manifest import Manifest, ManifestError, read_manifest


def M(**kw: object) -> Manifest:
    return Manifest(**kw)  # type: ignore[arg-type]


def test_manifest_from_toml_and_literal(tmp_path: Path) -> None:
    pkg = tmp_path / "weather"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "manifest.toml").write_text(
        'version = "1.2.0"\ndescription = "W"\nauthor = "A"\nallow_hot_reload = false\n'
        'requirements = ["attrs>=20"]\nmin_qgactor_version = "0.0.1"\n'
        '[dependencies]\nhelp = ">=1.0"\n'
    )
    m = read_manifest(pkg)
    assert m.name == "weather" and m.version == "1.2.0" and not m.allow_hot_reload
    assert m.dependencies == {"help": ">=1.0"} and m.requirements == ("attrs>=20",)

    single = tmp_path / "echo.py"
    single.write_text(
        "from qgactor.plugins import Manifest\n"
        "__plugin__ = Manifest(version='2.0', description='Echo', dependencies={'help': ''})\n"
        "raise RuntimeError('must not be executed to read the manifest')\n"
    )
    m2 = read_manifest(single)
    assert (m2.name, m2.version, m2.dependencies) == ("echo", "2.0", {"help": ""})

    bare = tmp_path / "bare.py"
    bare.write_text("x = 1\n")
    assert read_manifest(bare) == Manifest(name="bare")


@pytest.mark.parametrize(
    "body, needle",
    [
        ("__plugin__ = Manifest(version='one')", "PEP 440 version"),
        ("__plugin__ = Manifest(dependencies={'x': '>>1'})", "PEP 440 specifier"),
        ("__plugin__ = Manifest(requirements=['not a req!!'])", "PEP 508"),
        ("__plugin__ = Manifest(colour='red')", "unknown manifest key"),
        ("__plugin__ = Manifest(name='other')", "differs from the plugin's file name"),
        ("__plugin__ = Manifest(version=VERSION)", "must be a literal"),
        # wrong types are reported, not crashes (TOML manifests make these easy to write)
        ("__plugin__ = Manifest(name=3)", "name must be a string"),
        ("__plugin__ = Manifest(version=1.0)", "version must be a string"),
        ("__plugin__ = Manifest(dependencies={'hello': 1})", "specifier must be a string"),
        ("__plugin__ = Manifest(requirements=[3])", "list of strings"),
        ("__plugin__ = Manifest(requirements=3)", "list of strings"),
    ],
)
def test_bad_manifests_name_file_and_problem(tmp_path: Path, body: str, needle: str) -> None:
    p = tmp_path / "bad.py"
    p.write_text(body + "\n")
    with pytest.raises(ManifestError) as info:
        read_manifest(p)
    assert needle in str(info.value) and "bad.py" in str(info.value)


def test_discover_reports_bad_manifest_and_keeps_others(tmp_path: Path) -> None:
    (tmp_path / "good.py").write_text("")
    (tmp_path / "bad.py").write_text("__plugin__ = Manifest(version='x y')\n")
    (tmp_path / "_private.py").write_text("")
    (tmp_path / "notes").mkdir()  # no __init__.py: not a plugin
    sources, errors = discover(tmp_path)
    assert set(sources) == {"good"} and set(errors) == {"bad"}


def _lookup(installed: dict[str, str]):
    return lambda name: installed.get(name)


def test_topological_order_dependencies_first() -> None:
    ms = {
        "c": M(name="c", dependencies={"b": ""}),
        "b": M(name="b", dependencies={"a": ">=1"}),
        "a": M(name="a", version="1.5"),
        "z": M(name="z"),
    }
    plan = plan_load(ms, qgactor_version="0.1.0", lookup=_lookup({}))
    assert plan.skipped == {}
    order = list(plan.order)
    assert order.index("a") < order.index("b") < order.index("c")
    assert sorted(order) == ["a", "b", "c", "z"]


def test_cycle_reported_by_name_and_others_load() -> None:
    ms = {
        "a": M(name="a", dependencies={"b": ""}),
        "b": M(name="b", dependencies={"c": ""}),
        "c": M(name="c", dependencies={"a": ""}),
        "d": M(name="d", dependencies={"a": ""}),
        "ok": M(name="ok"),
    }
    plan = plan_load(ms, qgactor_version="0.1.0", lookup=_lookup({}))
    assert plan.order == ("ok",)
    assert {p.kind for p in plan.skipped["a"]} == {"cycle"}
    assert "a -> b -> c -> a" in plan.skipped["b"][0].detail
    assert plan.skipped["d"][0].kind == "plugin_skipped"
    assert "cycle" in plan.report()


def test_missing_and_mismatched_reported_together_with_fix() -> None:
    ms = {
        "w": M(
            name="w",
            requirements=["nosuchpkg>=1", "attrs>=99", "present"],
            dependencies={"ghost": ">=1", "old": ">=2"},
            min_qgactor_version="9.0",
        ),
        "old": M(name="old", version="1.0"),
        "fine": M(name="fine", requirements=["present>=1; python_version < '3'"]),
    }
    plan = plan_load(
        ms, qgactor_version="0.1.0", lookup=_lookup({"attrs": "23.1", "present": "1.0"})
    )
    kinds = sorted(p.kind for p in plan.skipped["w"])
    assert kinds == sorted(
        ["missing_package", "package_version", "missing_plugin", "plugin_version",
         "qgactor_version"]
    )
    fixes = {p.kind: p.fix for p in plan.skipped["w"]}
    assert fixes["missing_package"] == "pip install 'nosuchpkg>=1'"
    assert fixes["package_version"] == "pip install 'attrs>=99'"
    assert plan.order == ("fine", "old")  # marker not applicable: requirement ignored
    report = plan.report()
    assert "pip install 'attrs>=99' 'nosuchpkg>=1'" in report


def test_real_installed_packages_checked_with_importlib_metadata() -> None:
    ms = {"p": M(name="p", requirements=["trio>=0.1", "definitely-not-installed-xyz"])}
    plan = plan_load(ms, qgactor_version="0.1.0")
    assert [p.kind for p in plan.skipped["p"]] == ["missing_package"]


def test_a_single_requirement_string_is_one_requirement(tmp_path: Path) -> None:
    p = tmp_path / "one.py"
    p.write_text("__plugin__ = Manifest(requirements='httpx>=0.1')\n")
    assert read_manifest(p).requirements == ("httpx>=0.1",)  # not its characters
