"""Sending replies for handler contexts and session timeouts, through the ``qgactor.qq`` client.

``ApiClient.send(target, *parts)`` picks the endpoint for the scene and fills the passive-reply
ids (``msg_id`` / ``event_id`` and the target's automatic ``msg_seq``).
"""

from __future__ import annotations

from typing import Any

from qgactor.qq.scene import ReplyTarget, Scene

__all__ = ["send_reply", "target_from_address"]


async def send_reply(api: Any, target: ReplyTarget, *parts: Any, msg_seq: int | None = None) -> Any:
    """Send ``parts`` (strings or ``qgactor.qq`` builders) to ``target``; ``None`` parts are skipped.

    Raises:
        RuntimeError: the API client is not open.
        ValueError: nothing to send.
        qgactor.qq ApiError subclasses: the platform refused.
    """
    if api is None:
        raise RuntimeError("the API client is not open yet (is the bot running?)")
    real = [p for p in parts if p is not None]
    if not real:
        raise ValueError("reply() needs something to send: text or a builder (Markdown, Image, ...)")
    return await api.send(target, *real, msg_seq=msg_seq)


def target_from_address(address: dict[str, Any], live: ReplyTarget | None = None) -> ReplyTarget:
    """Rebuild a reply target from ``EventContext.reply_address()`` data.

    ``live`` (the original target object, if it is still in memory) keeps the ``msg_seq``
    counter exact; otherwise the counter resumes after the recorded ``seq``.

    Raises:
        ValueError: the address is malformed.
    """
    if live is not None:
        return live
    try:
        target = ReplyTarget(Scene(address["scene"]), str(address["target_id"]),
                             msg_id=address.get("msg_id"), event_id=address.get("event_id"))
    except (KeyError, ValueError, TypeError) as exc:
        raise ValueError(f"malformed reply address {address!r}: {exc}") from None
    for _ in range(int(address.get("seq") or 0)):
        target.next_seq()
    return target
