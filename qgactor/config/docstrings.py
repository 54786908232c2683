"""Attribute docstrings: the string literal written right under a class attribute.

``inspect.getsource`` + ``ast`` read them from the class body; results are cached per class
object (a weak cache, so reloaded plugin classes get fresh entries and old ones are freed).
Inherited fields keep the docstring of the class that declared them unless a subclass
redeclares the field with its own docstring. ``attrs.field(metadata={"doc": "..."})`` is used
when the source cannot be read (classes built with ``exec`` or in a REPL).
"""

from __future__ import annotations

import ast
import inspect
import logging
import textwrap
import weakref
from collections.abc import Mapping
from types import MappingProxyType

import attrs

__all__ = ["attribute_docs", "class_doc"]

log = logging.getLogger(__name__)

_own_docs_cache: weakref.WeakKeyDictionary[type, Mapping[str, str]] = weakref.WeakKeyDictionary()


def _own_docs(cls: type) -> Mapping[str, str]:
    """Docstrings of the attributes declared in ``cls``'s own body."""
    try:
        return _own_docs_cache[cls]
    except KeyError:
        pass
    docs: dict[str, str] = {}
    try:
        source = textwrap.dedent(inspect.getsource(cls))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError, IndentationError) as exc:
        log.debug("no source for %s.%s (%s); attribute docs come from metadata only",
                  cls.__module__, cls.__qualname__, exc)
        tree = None
    if tree is not None:
        classdef = next((n for n in tree.body if isinstance(n, ast.ClassDef)), None)
        body = classdef.body if classdef is not None else []
        for stmt, following in zip(body, body[1:]):
            name = _assigned_name(stmt)
            if name is None:
                continue
            if (
                isinstance(following, ast.Expr)
                and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)
            ):
                docs[name] = inspect.cleandoc(following.value.value)
    result = MappingProxyType(docs)
    _own_docs_cache[cls] = result
    return result


def _assigned_name(stmt: ast.stmt) -> str | None:
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
        return stmt.target.id
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id
    return None


def attribute_docs(cls: type) -> dict[str, str]:
    """Return ``{field name: docstring}`` for ``cls`` and its bases (subclasses win).

    Fields without a docstring are absent. Docstrings are cleaned with ``inspect.cleandoc``
    (so multi-line docs keep their line structure). Never raises: a class whose source cannot
    be read yields only the docs given as ``attrs.field(metadata={"doc": ...})``.
    """
    docs: dict[str, str] = {}
    for base in reversed(cls.__mro__):
        if base is object:
            continue
        docs.update(_own_docs(base))
    if attrs.has(cls):
        for field in attrs.fields(cls):
            meta_doc = field.metadata.get("doc")
            if isinstance(meta_doc, str) and field.name not in docs:
                docs[field.name] = inspect.cleandoc(meta_doc)
    return docs


def class_doc(cls: type) -> str:
    """Return the class's own cleaned docstring, or ``""`` (attrs' generated docs are ignored)."""
    doc = cls.__dict__.get("__doc__")
    return inspect.cleandoc(doc) if isinstance(doc, str) else ""
