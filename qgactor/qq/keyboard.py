"""Keyboards: rows of buttons under a markdown or text message (spec 7.9)."""

from __future__ import annotations

import enum
from typing import Any

import attrs

__all__ = ["ButtonAction", "ButtonPermission", "Button", "Keyboard"]


class ButtonAction(enum.IntEnum):
    """What a button does: open a link, send a callback (INTERACTION_CREATE), or insert a command."""

    LINK = 0
    CALLBACK = 1
    COMMAND = 2


class ButtonPermission(enum.IntEnum):
    """Who may click: specified users, admins, everyone, specified roles."""

    USERS = 0
    ADMINS = 1
    EVERYONE = 2
    ROLES = 3


@attrs.frozen
class Button:
    """One keyboard button (spec 7.9). ``data`` is the link, callback data or command text."""

    label: str
    data: str
    action: ButtonAction = ButtonAction.CALLBACK
    id: str | None = None
    visited_label: str | None = None
    style: int = 1
    permission: ButtonPermission = ButtonPermission.EVERYONE
    specify_user_ids: tuple[str, ...] = ()
    specify_role_ids: tuple[str, ...] = ()
    reply: bool | None = None
    enter: bool | None = None
    anchor: int | None = None
    unsupport_tips: str = "Please upgrade QQ to use this button"

    def to_dict(self, index: int = 0) -> dict[str, Any]:
        """The button object; ``index`` names it when no ``id`` was given."""
        permission: dict[str, Any] = {"type": int(self.permission)}
        if self.specify_user_ids:
            permission["specify_user_ids"] = list(self.specify_user_ids)
        if self.specify_role_ids:
            permission["specify_role_ids"] = list(self.specify_role_ids)
        action: dict[str, Any] = {"type": int(self.action), "permission": permission,
                                  "data": self.data, "unsupport_tips": self.unsupport_tips}
        for key in ("reply", "enter", "anchor"):
            if getattr(self, key) is not None:
                action[key] = getattr(self, key)
        return {
            "id": self.id or str(index),
            "render_data": {"label": self.label, "visited_label": self.visited_label or self.label,
                            "style": self.style},
            "action": action,
        }


@attrs.frozen
class Keyboard:
    """A keyboard: a ``template_id``, or ``rows`` of ``Button`` (at most 5 rows of 5)."""

    template_id: str | None = None
    rows: tuple[tuple[Button, ...], ...] = attrs.field(
        default=(), converter=lambda rows: tuple(tuple(r) for r in rows))

    def __attrs_post_init__(self) -> None:
        if (self.template_id is None) == (not self.rows):
            raise ValueError("Keyboard takes either template_id=... or rows=[[Button, ...], ...]")
        if len(self.rows) > 5 or any(len(r) > 5 or not r for r in self.rows):
            raise ValueError("Keyboard allows 1 to 5 rows of 1 to 5 buttons")

    def to_dict(self) -> dict[str, Any]:
        """The ``keyboard`` object of a send body."""
        if self.template_id is not None:
            return {"id": self.template_id}
        n = 0
        rows = []
        for row in self.rows:
            buttons = []
            for button in row:
                n += 1
                buttons.append(button.to_dict(n))
            rows.append({"buttons": buttons})
        return {"content": {"rows": rows}}
