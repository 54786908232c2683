"""What every endpoint mixin relies on: ``_call`` and the answer-shape helpers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from qgactor.qq.errors import ApiError
from qgactor.qq.http import HttpCore, Route
from qgactor.qq.models.base import Model

__all__ = ["ApiBase", "drop_none", "shape_error"]

M = TypeVar("M", bound=Model)


def drop_none(**fields: Any) -> dict[str, Any]:
    """The keyword arguments whose value is not ``None`` (optional body fields)."""
    return {k: v for k, v in fields.items() if v is not None}


def shape_error(route: Route, expected: str, data: Any) -> ApiError:
    """The error for an answer of an unexpected JSON shape (``expected``: "an object", ...)."""
    return ApiError(status=200, message=f"unexpected answer: expected {expected}, got {type(data).__name__}",
                    method=route.method, path=route.path)


class ApiBase:
    """The shared core of the REST mixins (``ApiClient`` sets ``_http``)."""

    _http: HttpCore

    async def _call(self, route: Route, *, json: Any = None, params: Mapping[str, Any] | None = None,
                    data: Mapping[str, Any] | None = None, files: Any = None, dedup: bool = False) -> Any:
        return (await self._http.exchange(route, json=json, params=params, data=data, files=files,
                                          dedup=dedup))[1]

    async def _one(self, cls: type[M], route: Route, *, unwrap: str | None = None, **kwargs: Any) -> M:
        data = (await self._http.exchange(route, **kwargs))[1]
        if unwrap and isinstance(data, dict) and isinstance(data.get(unwrap), dict):
            data = data[unwrap]
        if not isinstance(data, dict):
            raise shape_error(route, "an object", data)
        return cls._parse(data)  # type: ignore[no-any-return]

    async def _many(self, cls: type[M], route: Route, *, key: str | None = None, **kwargs: Any) -> list[M]:
        data = await self._call(route, **kwargs)
        if key is not None and isinstance(data, dict):
            data = data.get(key, [])
        if data is None:
            return []
        if not isinstance(data, list):
            raise shape_error(route, "an array", data)
        parse = cls._parse
        return [parse(x) for x in data if isinstance(x, dict)]

    async def _none(self, route: Route, **kwargs: Any) -> None:
        await self._call(route, **kwargs)
