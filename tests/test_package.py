"""Package-wide rules: the layer rule of DESIGN.md, docstrings on public names, py.typed."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

import qgactor

PACKAGE = Path(qgactor.__file__).parent

# layer -> the qgactor subpackages it must never import (imports only point down)
FORBIDDEN = {
    "runtime": {"qq", "bot", "plugins", "config", "emulator", "cli", "console", "testing"},
    "qq": {"runtime", "bot", "plugins", "config", "emulator", "cli", "console", "testing"},
    "bot": {"plugins", "config", "emulator", "cli", "console", "testing"},
    "plugins": {"emulator", "cli", "console", "testing"},
    "config": {"emulator", "cli", "console", "testing"},
}
# the emulator is the platform's other side: it may share protocol constants, not client logic
EMULATOR_ALLOWED_QQ = {"qgactor.qq.protocol"}


def _imported_modules(path: Path, root: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(path.relative_to(root.parent).with_suffix("").parts[:-1])
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
    return found


def _layer_violations(root: Path = PACKAGE) -> list[str]:
    problems = []
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if len(parts) < 2:
            continue
        layer = parts[0]
        for lineno, module in _imported_modules(path, root):
            if not module.startswith("qgactor."):
                continue
            target = module.split(".")[1]
            where = f"{path.relative_to(root.parent)}:{lineno} imports {module}"
            if target in FORBIDDEN.get(layer, ()):
                problems.append(where)
            if layer == "emulator" and target in {"qq", "bot", "runtime"}:
                if not any(module == ok or module.startswith(ok + ".") for ok in EMULATOR_ALLOWED_QQ):
                    problems.append(where + " (the emulator may only share qgactor.qq.protocol)")
    return problems


def test_imports_only_point_down() -> None:
    assert _layer_violations() == []


def test_layer_check_detects_upward_imports(tmp_path: Path) -> None:
    # the checker itself must be able to fail: a fake package with upward imports
    root = tmp_path / "qgactor"
    (root / "runtime").mkdir(parents=True)
    (root / "emulator").mkdir()
    (root / "runtime" / "probe.py").write_text("def f():\n    from ..bot import Bot\n", encoding="utf-8")
    (root / "emulator" / "probe.py").write_text("from qgactor.qq.client import ApiClient\n", encoding="utf-8")
    (root / "emulator" / "fine.py").write_text("from qgactor.qq.protocol import Opcode\n", encoding="utf-8")
    problems = _layer_violations(root)
    assert len(problems) == 2, problems
    assert any("runtime/probe.py:2 imports qgactor.bot" in p for p in problems), problems
    assert any("emulator/probe.py:1" in p and "may only share" in p for p in problems), problems


def _public_modules() -> list[str]:
    names = ["qgactor"]
    for sub in ("runtime", "qq", "bot", "plugins", "config", "emulator", "testing"):
        if (PACKAGE / sub / "__init__.py").exists():
            names.append(f"qgactor.{sub}")
    return names


@pytest.mark.parametrize("module_name", _public_modules())
def test_every_public_name_has_a_docstring(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert module.__doc__, f"{module_name} has no module docstring"
    missing = []
    for name in getattr(module, "__all__", []):
        obj = getattr(module, name)
        if inspect.isclass(obj) or inspect.isfunction(obj) or inspect.ismethod(obj):
            if not inspect.getdoc(obj):
                missing.append(name)
    assert missing == [], f"public names without a docstring in {module_name}: {missing}"


def test_all_names_resolve() -> None:
    for name in qgactor.__all__:
        assert hasattr(qgactor, name), name


def test_package_ships_py_typed() -> None:
    assert (PACKAGE / "py.typed").exists()
