"""Plugin manifests: who a plugin is and what it needs, readable without importing it.

A plugin states its manifest in one of two ways:

* a **package** plugin (``plugins/NAME/__init__.py``) puts a ``manifest.toml`` beside its
  ``__init__.py``::

      name = "weather"                 # optional; must equal the folder name
      version = "1.2.0"                # PEP 440
      description = "Answers weather questions."
      author = "Alice"
      allow_hot_reload = true          # default true
      min_qgactor_version = "0.1"      # optional
      requirements = ["httpx>=0.27"]   # PEP 508 Python package requirements
      [dependencies]                   # other plugins, PEP 440 specifiers ("" = any version)
      help = ">=1.0"

* a **single-file** plugin (``plugins/NAME.py``), or a package without ``manifest.toml``,
  assigns a module-level ``__plugin__ = Manifest(...)`` whose arguments are literals::

      __plugin__ = Manifest(version="1.0.0", description="Echo", dependencies={"help": ">=1"})

  The assignment is read with :mod:`ast` (literal arguments only), so dependency checks run
  before any plugin code executes. A plugin without either gets a default manifest
  (version ``0.0.0``, its docstring-free name only).
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path
from typing import Any

import attrs
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

__all__ = ["Manifest", "ManifestError", "read_manifest", "MANIFEST_FILE"]

MANIFEST_FILE = "manifest.toml"
"""File name of a package plugin's manifest."""

_FIELDS = (
    "name",
    "version",
    "description",
    "author",
    "dependencies",
    "requirements",
    "allow_hot_reload",
    "min_qgactor_version",
)


class ManifestError(ValueError):
    """A plugin manifest is malformed; the message names the file, the key and the fix."""


def _requirements(value: Any) -> tuple[Any, ...]:
    """``requirements`` as a tuple; a single string is one requirement, not its characters."""
    if isinstance(value, str):
        return (value,)
    try:
        return tuple(value)
    except TypeError:
        raise ManifestError(f"requirements must be a list of strings such as [\"httpx>=0.27\"], "
                            f"not {type(value).__name__} {value!r}") from None


def _check_name(name: str) -> None:
    if not name.isidentifier() or name.startswith("_"):
        raise ManifestError(
            f"plugin name {name!r} is not a valid name: use letters, digits and underscores, "
            "not starting with a digit or underscore"
        )


@attrs.frozen(slots=True)
class Manifest:
    """The declared identity and needs of one plugin.

    Attributes:
        name: the plugin's name (equals its file or folder name; empty means "take it from
            the file name").
        version: the plugin's PEP 440 version.
        description: one line shown by ``plugin list`` and the help plugin.
        author: who wrote it.
        dependencies: other plugins this one needs, ``{name: PEP 440 specifier}`` (``""`` for
            any version). They load first; if one is missing this plugin is skipped.
        requirements: Python package requirements (PEP 508 strings) checked against the
            installed distributions.
        allow_hot_reload: if false, code changes are not reloaded live; a restart is needed.
        min_qgactor_version: the lowest qgactor version this plugin runs on, if any.
    """

    name: str = ""
    version: str = "0.0.0"
    description: str = ""
    author: str = ""
    dependencies: dict[str, str] = attrs.field(factory=dict)
    requirements: tuple[str, ...] = attrs.field(default=(), converter=_requirements)
    allow_hot_reload: bool = True
    min_qgactor_version: str | None = None

    def __attrs_post_init__(self) -> None:
        for key in ("name", "version", "description", "author", "min_qgactor_version"):
            value = getattr(self, key)
            if not isinstance(value, str) and not (key == "min_qgactor_version" and value is None):
                example = {"name": "weather", "version": "1.0.0", "description": "what it does",
                           "author": "you", "min_qgactor_version": "0.1"}[key]
                raise ManifestError(
                    f"{key} must be a string in quotes (e.g. {key} = \"{example}\"), "
                    f"not {type(value).__name__} {value!r}")
        for req in self.requirements:
            if not isinstance(req, str):
                raise ManifestError(f"requirements must be a list of strings such as "
                                    f"[\"httpx>=0.27\"], not containing {req!r}")
        if self.name:
            _check_name(self.name)
        try:
            Version(self.version)
        except InvalidVersion:
            raise ManifestError(
                f"version {self.version!r} is not a PEP 440 version (e.g. '1.0.0')"
            ) from None
        if not isinstance(self.dependencies, dict):
            raise ManifestError("dependencies must be a table {plugin_name = 'specifier'}")
        for dep, spec in self.dependencies.items():
            _check_name(dep)
            if not isinstance(spec, str):
                raise ManifestError(f"dependency {dep!r}: the specifier must be a string such "
                                    f"as \">=1.0\" (or \"\" for any version), not {spec!r}")
            try:
                SpecifierSet(spec)
            except (InvalidSpecifier, TypeError):
                raise ManifestError(
                    f"dependency {dep!r}: {spec!r} is not a PEP 440 specifier (e.g. '>=1.0')"
                ) from None
        for req in self.requirements:
            try:
                Requirement(req)
            except (InvalidRequirement, TypeError):
                raise ManifestError(
                    f"requirement {req!r} is not a PEP 508 requirement (e.g. 'httpx>=0.27')"
                ) from None
        if self.min_qgactor_version is not None:
            try:
                Version(self.min_qgactor_version)
            except InvalidVersion:
                raise ManifestError(
                    f"min_qgactor_version {self.min_qgactor_version!r} is not a PEP 440 version"
                ) from None
        if not isinstance(self.allow_hot_reload, bool):
            raise ManifestError("allow_hot_reload must be true or false")

    @property
    def parsed_version(self) -> Version:
        """The version as a :class:`packaging.version.Version`."""
        return Version(self.version)

    @property
    def parsed_requirements(self) -> list[Requirement]:
        """The Python package requirements as :class:`packaging.requirements.Requirement`."""
        return [Requirement(r) for r in self.requirements]

    @classmethod
    def from_mapping(cls, data: dict[str, Any], *, source: str = "<manifest>") -> Manifest:
        """Build a manifest from a TOML table or keyword mapping.

        Raises:
            ManifestError: unknown keys or invalid values, naming ``source``.
        """
        unknown = sorted(set(data) - set(_FIELDS))
        if unknown:
            raise ManifestError(
                f"{source}: unknown manifest key(s) {', '.join(unknown)}; "
                f"allowed: {', '.join(_FIELDS)}"
            )
        try:
            return cls(**data)
        except ManifestError as exc:
            raise ManifestError(f"{source}: {exc}") from None
        except TypeError as exc:
            raise ManifestError(f"{source}: {exc}") from None

    def with_name(self, name: str, *, source: str) -> Manifest:
        """Return this manifest named ``name`` (the file name); raises ManifestError on a
        conflicting explicit name."""
        if self.name and self.name != name:
            raise ManifestError(
                f"{source}: manifest name {self.name!r} differs from the plugin's file name "
                f"{name!r}; rename one so they match"
            )
        _check_name(name)
        return attrs.evolve(self, name=name)


def _literal_manifest(path: Path) -> dict[str, Any] | None:
    """Find ``__plugin__ = Manifest(...)`` in a module's source and return its arguments."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as exc:
        raise ManifestError(f"{path}: cannot parse ({exc.msg} at line {exc.lineno})") from None
    for node in tree.body:
        if not isinstance(node, (ast.Assign, ast.AnnAssign)):
            continue
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if not any(isinstance(t, ast.Name) and t.id == "__plugin__" for t in targets):
            continue
        call = node.value
        if not (isinstance(call, ast.Call) and not call.args):
            raise ManifestError(
                f"{path}:{node.lineno}: __plugin__ must be Manifest(key=value, ...) "
                "with keyword arguments only"
            )
        out: dict[str, Any] = {}
        for kw in call.keywords:
            try:
                out[str(kw.arg)] = ast.literal_eval(kw.value)
            except ValueError:
                raise ManifestError(
                    f"{path}:{kw.value.lineno}: __plugin__ argument {kw.arg!r} must be a "
                    "literal (string, number, bool, list, dict)"
                ) from None
        return out
    return None


def read_manifest(path: Path) -> Manifest:
    """Read the manifest of the plugin at ``path`` (a ``.py`` file or a package folder).

    Raises:
        ManifestError: the manifest is unreadable or invalid (message names file and key).
    """
    path = Path(path)
    name = path.stem if path.is_file() else path.name
    data: dict[str, Any] | None
    if path.is_dir():
        toml_path = path / MANIFEST_FILE
        if toml_path.exists():
            try:
                data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
            except tomllib.TOMLDecodeError as exc:
                raise ManifestError(f"{toml_path}: invalid TOML: {exc}") from None
            source = str(toml_path)
        else:
            source = str(path / "__init__.py")
            data = _literal_manifest(path / "__init__.py")
    else:
        source = str(path)
        data = _literal_manifest(path)
    manifest = Manifest.from_mapping(data or {}, source=source)
    return manifest.with_name(name, source=source)
