"""Dependency checks and load order for plugins.

Given every discovered plugin's :class:`~qgactor.plugins.manifest.Manifest`, :func:`plan_load`
checks Python package requirements (``importlib.metadata`` + ``packaging``), the minimum qgactor
version and plugin-to-plugin dependencies (presence and PEP 440 version), then orders the
loadable plugins so that dependencies come first. Every problem of a plugin is reported
together with what to do; a plugin with problems is skipped, and so is every plugin that
(transitively) depends on it. Dependency cycles are reported by name.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping
from importlib import metadata

import attrs
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from qgactor.plugins.manifest import Manifest

__all__ = ["DependencyProblem", "LoadPlan", "plan_load", "check_requirements", "installed_version"]


@attrs.frozen(slots=True)
class DependencyProblem:
    """One reason a plugin cannot load.

    Attributes:
        plugin: the plugin that cannot load.
        kind: ``"missing_package"``, ``"package_version"``, ``"qgactor_version"``,
            ``"missing_plugin"``, ``"plugin_version"``, ``"plugin_skipped"`` (a dependency was
            itself skipped) or ``"cycle"``.
        detail: what is wrong.
        fix: what to do about it (e.g. ``pip install 'httpx>=0.27'``).
    """

    plugin: str
    kind: str
    detail: str
    fix: str

    def __str__(self) -> str:
        return f"{self.detail} ({self.fix})"


@attrs.frozen(slots=True)
class LoadPlan:
    """The outcome of :func:`plan_load`.

    Attributes:
        order: names of the plugins that can load, dependencies first.
        skipped: for each plugin that cannot load, all of its problems.
    """

    order: tuple[str, ...]
    skipped: Mapping[str, tuple[DependencyProblem, ...]]

    def report(self) -> str:
        """A human-readable multi-line report of the skipped plugins (empty if none)."""
        lines: list[str] = []
        for name, problems in sorted(self.skipped.items()):
            lines.append(f"plugin {name!r} skipped:")
            lines.extend(f"  - {p.detail}; fix: {p.fix}" for p in problems)
        installs = sorted(
            {p.fix.removeprefix("pip install ") for ps in self.skipped.values() for p in ps
             if p.fix.startswith("pip install ")}
        )
        if installs:
            lines.append("to install every missing package: pip install " + " ".join(installs))
        return "\n".join(lines)


def installed_version(distribution: str) -> str | None:
    """The installed version of a Python distribution, or None if it is not installed."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def check_requirements(
    manifest: Manifest,
    *,
    qgactor_version: str,
    lookup: Callable[[str], str | None] = installed_version,
) -> list[DependencyProblem]:
    """Check a manifest's Python requirements and minimum qgactor version.

    Requirements whose environment marker does not apply to this interpreter are ignored.
    Never raises for a bad environment; returns the list of problems (empty when all is well).
    """
    problems: list[DependencyProblem] = []
    for req_text in manifest.requirements:
        req = Requirement(req_text)
        if req.marker is not None and not req.marker.evaluate():
            continue
        have = lookup(req.name)
        quoted = f"'{req_text}'" if any(c in req_text for c in "<>=!~; ") else req_text
        if have is None:
            problems.append(DependencyProblem(
                manifest.name, "missing_package",
                f"Python package {req.name!r} is not installed (needs {req_text!r})",
                f"pip install {quoted}",
            ))
        elif req.specifier and not req.specifier.contains(have, prereleases=True):
            problems.append(DependencyProblem(
                manifest.name, "package_version",
                f"Python package {req.name!r} {have} is installed but {req_text!r} is required",
                f"pip install {quoted}",
            ))
    if manifest.min_qgactor_version is not None:
        try:
            ok = Version(qgactor_version) >= Version(manifest.min_qgactor_version)
        except InvalidVersion:
            ok = True  # an unversioned source tree: do not block plugins
        if not ok:
            problems.append(DependencyProblem(
                manifest.name, "qgactor_version",
                f"needs qgactor >= {manifest.min_qgactor_version}, this is {qgactor_version}",
                f"pip install 'qgactor>={manifest.min_qgactor_version}'",
            ))
    return problems


def _find_cycles(graph: Mapping[str, Iterable[str]], nodes: set[str]) -> list[list[str]]:
    """Strongly connected components with more than one node (or a self loop) among nodes."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = 0

    def strong(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in nodes:
                continue
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp: list[str] = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1 or v in graph.get(v, ()):
                out.append(sorted(comp))

    for v in sorted(nodes):
        if v not in index:
            strong(v)
    return out


def plan_load(
    manifests: Mapping[str, Manifest],
    *,
    qgactor_version: str,
    lookup: Callable[[str], str | None] = installed_version,
    preskipped: Mapping[str, Iterable[DependencyProblem]] | None = None,
) -> LoadPlan:
    """Check every plugin's needs and return the load order of the plugins that can load.

    ``manifests`` maps plugin name to manifest; ``preskipped`` adds problems found elsewhere
    (e.g. a manifest that failed to parse, or a disabled plugin reported as missing to its
    dependents). Order is deterministic: dependencies first, ties broken by name.
    """
    problems: dict[str, list[DependencyProblem]] = {
        name: list(ps) for name, ps in (preskipped or {}).items()
    }
    for name, m in manifests.items():
        found = check_requirements(m, qgactor_version=qgactor_version, lookup=lookup)
        for dep, spec in m.dependencies.items():
            other = manifests.get(dep)
            if other is None:
                if dep not in problems:
                    found.append(DependencyProblem(
                        name, "missing_plugin",
                        f"needs plugin {dep!r}{spec and ' ' + spec} which is not present",
                        f"add plugin {dep!r} to the plugins directory",
                    ))
            elif spec and not SpecifierSet(spec).contains(other.version, prereleases=True):
                found.append(DependencyProblem(
                    name, "plugin_version",
                    f"needs plugin {dep!r} {spec} but {other.version} is present",
                    f"install a version of plugin {dep!r} matching {spec}",
                ))
        if found:
            problems.setdefault(name, []).extend(found)

    graph = {name: list(m.dependencies) for name, m in manifests.items()}
    candidates = set(manifests)
    for cycle in _find_cycles(graph, candidates):
        path = " -> ".join([*cycle, cycle[0]])
        for name in cycle:
            problems.setdefault(name, []).append(DependencyProblem(
                name, "cycle", f"dependency cycle: {path}",
                "remove one of these dependencies so the plugins can load in order",
            ))

    # propagate: a plugin whose dependency is skipped is skipped too
    changed = True
    while changed:
        changed = False
        for name, m in manifests.items():
            if name in problems and any(p.kind != "plugin_skipped" for p in problems[name]):
                continue
            for dep in m.dependencies:
                if dep in problems:
                    already = {p.detail for p in problems.get(name, [])}
                    detail = f"needs plugin {dep!r} which cannot load"
                    if detail not in already:
                        problems.setdefault(name, []).append(DependencyProblem(
                            name, "plugin_skipped", detail, f"fix plugin {dep!r} first",
                        ))
                        changed = True

    loadable = {n for n in manifests if n not in problems}
    indegree = {n: sum(1 for d in graph[n] if d in loadable) for n in loadable}
    dependents: dict[str, list[str]] = {n: [] for n in loadable}
    for n in loadable:
        for d in graph[n]:
            if d in loadable:
                dependents[d].append(n)
    ready = [n for n, deg in indegree.items() if deg == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        n = heapq.heappop(ready)
        order.append(n)
        for m in dependents[n]:
            indegree[m] -= 1
            if indegree[m] == 0:
                heapq.heappush(ready, m)
    return LoadPlan(order=tuple(order), skipped={k: tuple(v) for k, v in problems.items()})
