"""Users, guilds and gateway discovery (spec 6.2, 3.1)."""

from __future__ import annotations

from typing import Any

from ..http import Request, Router
from ..platform import Platform
from .common import guild_or_404, int_arg, limit_arg

__all__ = ["install"]


def install(router: Router, p: Platform) -> None:
    """Register the endpoints of this group."""

    @router.route("GET", "/users/@me")
    async def me(req: Request) -> Any:
        bot = p.world.bot
        return bot.to_json() | {"union_openid": bot.union_openid, "union_user_account": "", "share_url": ""}

    @router.route("GET", "/users/@me/guilds")
    async def my_guilds(req: Request) -> Any:
        limit = limit_arg(req.query.get("limit"), default=100, hi=100)
        ids = sorted(p.world.guilds, key=int)
        before, after = req.query.get("before"), req.query.get("after")
        if before:
            b = int_arg(before, "before")
            ids = [g for g in ids if int(g) < b][-limit:]
        elif after:
            a = int_arg(after, "after")
            ids = [g for g in ids if int(g) > a][:limit]
        else:
            ids = ids[:limit]
        return [p.world.guild_json(p.world.guilds[g]) for g in ids]

    @router.route("GET", "/guilds/{guild_id}")
    async def guild(req: Request) -> Any:
        return p.world.guild_json(guild_or_404(p, req.params["guild_id"]))

    @router.route("GET", "/gateway")
    async def gateway(req: Request) -> Any:
        return {"url": p.gateway_url}

    @router.route("GET", "/gateway/bot")
    async def gateway_bot(req: Request) -> Any:
        return {"url": p.gateway_url, "shards": p.config.recommended_shards,
                "session_start_limit": p.session_start_limit()}
