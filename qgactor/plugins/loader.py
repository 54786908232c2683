"""Finding plugins on disk and importing them under a private module namespace.

A plugin is a ``NAME.py`` file or a ``NAME/`` package (with ``__init__.py``) directly in the
plugins directory; names starting with ``_`` or ``.`` are ignored. Plugin code is imported as
``<namespace>.NAME`` (``qgactor_plugins.NAME`` by default) by a :class:`PluginImporter`, a
meta-path finder that serves only that namespace and compiles straight from source (no
``.pyc`` cache, so an edit is always seen, even within the same second at the same size).
A plugin package can import its own submodules (``from . import util``) and another plugin's
modules (``import qgactor_plugins.other``) as usual.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import inspect
import logging
import sys
import types
from collections.abc import Iterator, Mapping
from pathlib import Path

import attrs

from qgactor.plugins.manifest import Manifest, ManifestError, read_manifest

__all__ = [
    "PluginSource",
    "PluginImporter",
    "PluginImportError",
    "discover",
    "DEFAULT_NAMESPACE",
]

log = logging.getLogger(__name__)

DEFAULT_NAMESPACE = "qgactor_plugins"
"""The parent module name plugin code is imported under."""


class PluginImportError(ImportError):
    """A plugin's code could not be imported; ``__cause__`` holds the original error."""


@attrs.frozen(slots=True)
class PluginSource:
    """A plugin found on disk.

    Attributes:
        name: the plugin name (file stem or folder name).
        path: the ``.py`` file or the package folder.
        manifest: its manifest.
    """

    name: str
    path: Path
    manifest: Manifest

    @property
    def is_package(self) -> bool:
        """True for a package plugin (a folder with ``__init__.py``)."""
        return self.path.is_dir()

    def owns(self, changed: Path) -> bool:
        """True if ``changed`` is this plugin's file or lies inside its package folder."""
        changed = Path(changed)
        if self.is_package:
            return changed == self.path or self.path in changed.parents
        return changed == self.path


def _candidates(plugins_dir: Path) -> Iterator[Path]:
    for entry in sorted(plugins_dir.iterdir()):
        if entry.name.startswith(("_", ".")):
            continue
        if entry.is_file() and entry.suffix == ".py":
            yield entry
        elif entry.is_dir() and (entry / "__init__.py").is_file():
            yield entry


def discover(plugins_dir: Path) -> tuple[dict[str, PluginSource], dict[str, str]]:
    """Scan ``plugins_dir`` and read every plugin's manifest without importing it.

    Returns ``(sources, errors)``: plugins by name, and for plugins whose manifest is invalid
    (or whose name is taken twice, e.g. ``x.py`` and ``x/``) the error message by name.

    Raises:
        FileNotFoundError: ``plugins_dir`` does not exist.
    """
    plugins_dir = Path(plugins_dir)
    if not plugins_dir.is_dir():
        raise FileNotFoundError(f"plugins directory {plugins_dir} does not exist; create it")
    sources: dict[str, PluginSource] = {}
    errors: dict[str, str] = {}
    for path in _candidates(plugins_dir):
        name = path.stem if path.is_file() else path.name
        if name in sources or name in errors:
            errors[name] = f"two plugins named {name!r} ({name}.py and {name}/); remove one"
            sources.pop(name, None)
            continue
        try:
            sources[name] = PluginSource(name, path, read_manifest(path))
        except ManifestError as exc:
            errors[name] = str(exc)
    return sources, errors


class _SourceOnlyLoader(importlib.abc.SourceLoader):
    """Compiles a module from its source every time (never reads or writes bytecode)."""

    def __init__(self, fullname: str, path: Path) -> None:
        self._fullname = fullname
        self._path = str(path)

    def get_filename(self, fullname: str) -> str:  # noqa: D102 - importlib protocol
        return self._path

    def get_data(self, path: str) -> bytes:  # noqa: D102 - importlib protocol
        with open(path, "rb") as f:
            return f.read()


class PluginImporter(importlib.abc.MetaPathFinder):
    """Imports plugin code under ``namespace`` from the plugins that are registered with it.

    Use as a context manager (or call :meth:`install` / :meth:`uninstall`): installing puts an
    empty namespace package in ``sys.modules`` and this finder on ``sys.meta_path``.
    """

    def __init__(self, namespace: str = DEFAULT_NAMESPACE, *, auto: bool = False) -> None:
        if not namespace.isidentifier():
            raise ValueError(f"namespace {namespace!r} must be a Python identifier")
        self.namespace = namespace
        self.auto = auto
        """If the namespace is taken at install time, use ``<namespace>_2``, ``_3``, ..."""
        self._sources: dict[str, PluginSource] = {}
        self._installed = False

    # -- lifecycle --------------------------------------------------------------------
    def install(self) -> None:
        """Register the namespace; raises RuntimeError if another importer already uses it."""
        if self._installed:
            return
        if self.auto:
            base, n = self.namespace, 1
            while self.namespace in sys.modules:
                n += 1
                self.namespace = f"{base}_{n}"
        if self.namespace in sys.modules:
            raise RuntimeError(
                f"module namespace {self.namespace!r} is already in use; give each "
                "PluginManager its own namespace"
            )
        ns = types.ModuleType(self.namespace, "Imported qgactor plugins.")
        ns.__path__ = []
        ns.__spec__ = importlib.machinery.ModuleSpec(self.namespace, None, is_package=True)
        sys.modules[self.namespace] = ns
        sys.meta_path.insert(0, self)
        self._installed = True

    def uninstall(self) -> None:
        """Remove the finder and every module imported under the namespace."""
        if not self._installed:
            return
        for key in [k for k in sys.modules if k == self.namespace
                    or k.startswith(self.namespace + ".")]:
            del sys.modules[key]
        if self in sys.meta_path:
            sys.meta_path.remove(self)
        self._installed = False

    def __enter__(self) -> PluginImporter:
        self.install()
        return self

    def __exit__(self, *exc: object) -> None:
        self.uninstall()

    # -- registry of sources ----------------------------------------------------------
    def set_source(self, source: PluginSource) -> None:
        """Make ``source`` importable as ``<namespace>.<source.name>``."""
        self._sources[source.name] = source

    def module_name(self, plugin: str) -> str:
        """The full module name of a plugin's top module."""
        return f"{self.namespace}.{plugin}"

    def modules_of(self, plugin: str) -> dict[str, types.ModuleType]:
        """Every imported module of a plugin (its top module and submodules)."""
        top = self.module_name(plugin)
        return {k: m for k, m in list(sys.modules.items())
                if k == top or k.startswith(top + ".")}

    # -- meta path finder -------------------------------------------------------------
    def find_spec(
        self,
        fullname: str,
        path: object = None,
        target: object = None,
    ) -> importlib.machinery.ModuleSpec | None:
        """Locate a module under the namespace (importlib protocol)."""
        if not fullname.startswith(self.namespace + "."):
            return None
        parts = fullname[len(self.namespace) + 1:].split(".")
        source = self._sources.get(parts[0])
        if source is None:
            return None
        if not source.is_package:
            if len(parts) > 1:
                return None
            file, search = source.path, None
        else:
            base = source.path.joinpath(*parts[1:])
            if (base / "__init__.py").is_file():
                file, search = base / "__init__.py", [str(base)]
            elif base.with_suffix(".py").is_file():
                file, search = base.with_suffix(".py"), None
            else:
                return None
        return importlib.util.spec_from_file_location(
            fullname, file, loader=_SourceOnlyLoader(fullname, file),
            submodule_search_locations=search,
        )

    # -- import / purge / restore -----------------------------------------------------
    def import_plugin(self, plugin: str) -> types.ModuleType:
        """Import (fresh) the plugin's top module; purge it first if already imported.

        Raises:
            PluginImportError: the code raised while importing (the cause is chained); the
                partially imported modules are purged.
        """
        if plugin not in self._sources:
            raise PluginImportError(f"plugin {plugin!r} is not registered with the importer")
        self.purge(plugin)
        importlib.invalidate_caches()
        try:
            return importlib.import_module(self.module_name(plugin))
        except BaseException as exc:
            self.purge(plugin)
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            raise PluginImportError(
                f"plugin {plugin!r} failed to import: {type(exc).__name__}: {exc}"
            ) from exc

    def purge(self, plugin: str) -> dict[str, types.ModuleType]:
        """Remove the plugin's modules from ``sys.modules``; return what was removed."""
        removed = self.modules_of(plugin)
        for key in removed:
            sys.modules.pop(key, None)
        top = self.module_name(plugin)
        ns = sys.modules.get(self.namespace)
        if ns is not None and hasattr(ns, plugin) and getattr(ns, plugin).__name__ == top:
            delattr(ns, plugin)
        return removed

    def restore(self, plugin: str, modules: Mapping[str, types.ModuleType]) -> None:
        """Put back modules returned by :meth:`purge` (used to roll back a failed reload)."""
        self.purge(plugin)
        sys.modules.update(modules)
        top = modules.get(self.module_name(plugin))
        ns = sys.modules.get(self.namespace)
        if top is not None and ns is not None:
            setattr(ns, plugin, top)


def classes_defined_in(
    modules: Mapping[str, types.ModuleType], base: type
) -> list[type]:
    """Concrete subclasses of ``base`` whose ``__module__`` is one of ``modules``.

    Classes merely imported into a plugin (e.g. a base class from a library or another
    plugin) are not returned. Order: definition order within each module.
    """
    out: list[type] = []
    seen: set[type] = set()
    for mod in modules.values():
        for obj in vars(mod).values():
            if (
                isinstance(obj, type)
                and issubclass(obj, base)
                and obj is not base
                and obj.__module__ in modules
                and not inspect.isabstract(obj)
                and obj not in seen
            ):
                seen.add(obj)
                out.append(obj)
    return out
