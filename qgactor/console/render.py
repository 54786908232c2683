"""Render what a bot sent (a message-send request body) as plain terminal text.

Text is shown as is; markdown as its source (or template id and params); keyboards as rows of
``[label]`` buttons; images, media, arks and embeds as one-line placeholders. Nothing here
talks to the network.
"""

from __future__ import annotations

from typing import Any

__all__ = ["render_message", "render_keyboard"]

_MEDIA_KINDS = {1: "image", 2: "video", 3: "voice", 4: "file"}


def render_keyboard(keyboard: Any) -> list[str]:
    """Render a keyboard object (template ``{id}`` or ``{content: {rows: [...]}}``) as lines."""
    if not isinstance(keyboard, dict):
        return ["[keyboard]"]
    if keyboard.get("id") and not keyboard.get("content"):
        return [f"[keyboard template {keyboard['id']}]"]
    content = keyboard.get("content") or {}
    rows = content.get("rows") if isinstance(content, dict) else None
    lines = []
    for row in rows or []:
        buttons = row.get("buttons", []) if isinstance(row, dict) else []
        labels = []
        for button in buttons:
            if not isinstance(button, dict):
                continue
            render = button.get("render_data") or {}
            label = render.get("label") or button.get("id") or "?"
            action = button.get("action") or {}
            kind = {0: "link", 1: "callback", 2: "command"}.get(action.get("type"), "")
            data = action.get("data")
            suffix = f" → {data}" if kind == "command" and data else (f" ↗ {data}" if kind == "link" and data else "")
            labels.append(f"[{label}{suffix}]")
        if labels:
            lines.append(" ".join(labels))
    return lines or ["[keyboard]"]


def _markdown(markdown: Any) -> list[str]:
    if not isinstance(markdown, dict):
        return [str(markdown)]
    if markdown.get("content"):
        return ["[markdown]", *str(markdown["content"]).splitlines()]
    template = markdown.get("custom_template_id") or markdown.get("template_id") or "?"
    params = []
    for param in markdown.get("params") or []:
        if isinstance(param, dict):
            params.append(f"{param.get('key')}={','.join(map(str, param.get('values') or []))}")
    return [f"[markdown template {template}" + (f": {'; '.join(params)}]" if params else "]")]


def render_message(body: dict[str, Any]) -> list[str]:
    """Return the lines that show one sent message body (never empty)."""
    lines: list[str] = []
    msg_type = body.get("msg_type")
    content = body.get("content")
    if isinstance(content, str) and content.strip():
        lines.extend(content.splitlines() or [content])
    if body.get("markdown") is not None:
        lines.extend(_markdown(body["markdown"]))
    if body.get("image"):
        lines.append(f"[image: {body['image']}]")
    if body.get("file_image") is not None:
        lines.append("[image: uploaded file]")
    media = body.get("media")
    if media is not None:
        info = media.get("file_info", "") if isinstance(media, dict) else media
        kind = "media"
        if isinstance(media, dict) and isinstance(media.get("file_type"), int):
            kind = _MEDIA_KINDS.get(media["file_type"], "media")
        lines.append(f"[{kind}: {str(info)[:24]}{'…' if len(str(info)) > 24 else ''}]")
    ark = body.get("ark")
    if ark is not None:
        template = ark.get("template_id", "?") if isinstance(ark, dict) else "?"
        lines.append(f"[ark template {template}]")
    embed = body.get("embed")
    if embed is not None:
        title = embed.get("title", "") if isinstance(embed, dict) else ""
        lines.append(f"[embed: {title}]" if title else "[embed]")
    if body.get("keyboard") is not None:
        lines.extend(render_keyboard(body["keyboard"]))
    if body.get("message_reference") and lines:
        lines[0] = "↪ " + lines[0]
    if not lines:
        lines.append(f"[message type {msg_type}]" if msg_type is not None else "[empty message]")
    return lines
