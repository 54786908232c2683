"""Outbound message builders and the per-scene body they compile to.

Parts: ``Text``, ``Markdown``, ``Keyboard`` (+ ``Button``), ``Ark`` (+ the 23/24/37
template helpers), ``Embed``, ``Image``, ``Media`` and ``Reference``. ``compose(scene, parts)``
turns a sequence of parts (plain ``str`` counts as ``Text``) into an ``Outbound``:

- guild / DM: ``content``, ``markdown``, ``keyboard``, ``ark``, ``embed``, ``image`` (URL) and
  ``message_reference`` fields; an image from bytes or a file becomes the multipart
  ``file_image`` part (``Outbound.file``).
- group / C2C: the same objects plus the required ``msg_type`` (0 text, 2 markdown, 3 ark,
  4 embed, 7 media). Media must be uploaded first to get a ``file_info``
  (``Outbound.upload`` says what to upload); ``content`` is ``" "`` when a media message has
  no text (the platform requires a value).

Raises ``ValueError`` with what is wrong for empty or contradictory messages.
"""

from __future__ import annotations

import base64
import enum
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Union

import attrs

from qgactor.qq.keyboard import Button, ButtonAction, ButtonPermission, Keyboard
from qgactor.qq.scene import Scene

__all__ = [
    "MsgType", "Text", "Markdown", "ButtonAction", "ButtonPermission", "Button", "Keyboard",
    "ArkKV", "Ark", "Embed", "Image", "Media", "FileType", "Reference", "Part", "Outbound", "compose",
]


class MsgType(enum.IntEnum):
    """``msg_type`` of group/C2C sends."""

    TEXT = 0
    MIXED = 1
    MARKDOWN = 2
    ARK = 3
    EMBED = 4
    AT = 5
    INPUT_NOTIFY = 6
    MEDIA = 7


class FileType(enum.IntEnum):
    """``file_type`` of a rich-media upload."""

    IMAGE = 1
    VIDEO = 2
    VOICE = 3
    FILE = 4


@attrs.frozen
class Text:
    """Plain text content (may contain markup such as ``text.at_user(id)``)."""

    content: str


@attrs.frozen
class Markdown:
    """A markdown message: raw ``content``, or a template (``template_id`` or
    ``custom_template_id``) with ``params`` mapping keys to a value or a list of values.
    Raises ``ValueError`` if both or neither are given."""

    content: str | None = None
    template_id: int | None = None
    custom_template_id: str | None = None
    params: Mapping[str, str | Sequence[str]] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        templated = self.template_id is not None or self.custom_template_id is not None
        if self.content is not None and (templated or self.params):
            raise ValueError("Markdown takes either content or a template with params, not both")
        if self.content is None and not templated:
            raise ValueError("Markdown needs content=... or template_id=/custom_template_id=")

    def to_dict(self) -> dict[str, Any]:
        """The ``markdown`` object of a send body."""
        if self.content is not None:
            return {"content": self.content}
        out: dict[str, Any] = {}
        if self.template_id is not None:
            out["template_id"] = self.template_id
        if self.custom_template_id is not None:
            out["custom_template_id"] = self.custom_template_id
        if self.params:
            out["params"] = [
                {"key": k, "values": [v] if isinstance(v, str) else [str(x) for x in v]}
                for k, v in self.params.items()
            ]
        return out


@attrs.frozen
class ArkKV:
    """One ark key: a ``value`` or a list ``obj`` of objects (each a mapping of obj_kv pairs)."""

    key: str
    value: str | None = None
    obj: tuple[Mapping[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The kv object."""
        out: dict[str, Any] = {"key": self.key}
        if self.value is not None:
            out["value"] = self.value
        if self.obj:
            out["obj"] = [{"obj_kv": [{"key": k, "value": v} for k, v in o.items()]} for o in self.obj]
        return out


@attrs.frozen
class Ark:
    """An ark template message: ``template_id`` and its ``kv`` list (see the helpers)."""

    template_id: int
    kv: tuple[ArkKV, ...] = attrs.field(converter=tuple, default=())

    @classmethod
    def link_list(cls, desc: str, prompt: str, items: Iterable[tuple[str, str | None]]) -> Ark:
        """Template 23: a text list; ``items`` are ``(text, link or None)``."""
        objs = tuple({"desc": text, **({"link": link} if link else {})} for text, link in items)
        return cls(23, (ArkKV("#DESC#", desc), ArkKV("#PROMPT#", prompt), ArkKV("#LIST#", obj=objs)))

    @classmethod
    def text_thumbnail(cls, desc: str, prompt: str, title: str, metadesc: str, img: str,
                       link: str, subtitle: str) -> Ark:
        """Template 24: text plus a thumbnail."""
        return cls(24, tuple(ArkKV(k, v) for k, v in (
            ("#DESC#", desc), ("#PROMPT#", prompt), ("#TITLE#", title), ("#METADESC#", metadesc),
            ("#IMG#", img), ("#LINK#", link), ("#SUBTITLE#", subtitle))))

    @classmethod
    def big_image(cls, prompt: str, title: str, subtitle: str, cover: str, url: str) -> Ark:
        """Template 37: a large image with title and subtitle."""
        return cls(37, tuple(ArkKV(k, v) for k, v in (
            ("#PROMPT#", prompt), ("#METATITLE#", title), ("#METASUBTITLE#", subtitle),
            ("#METACOVER#", cover), ("#METAURL#", url))))

    def to_dict(self) -> dict[str, Any]:
        """The ``ark`` object of a send body."""
        return {"template_id": self.template_id, "kv": [kv.to_dict() for kv in self.kv]}


@attrs.frozen
class Embed:
    """An embed: ``title``, ``prompt`` (notification text), optional ``description``,
    ``thumbnail`` URL and ``fields`` (lines of text)."""

    title: str
    prompt: str = ""
    description: str | None = None
    thumbnail: str | None = None
    fields: tuple[str, ...] = attrs.field(converter=tuple, default=())

    def to_dict(self) -> dict[str, Any]:
        """The ``embed`` object of a send body."""
        out: dict[str, Any] = {"title": self.title, "prompt": self.prompt or self.title}
        if self.description is not None:
            out["description"] = self.description
        if self.thumbnail:
            out["thumbnail"] = {"url": self.thumbnail}
        if self.fields:
            out["fields"] = [{"name": f} for f in self.fields]
        return out


def _source_check(inst: Any) -> None:
    given = [x for x in (inst.url, inst.data, inst.path, getattr(inst, "file_info", None)) if x is not None]
    if len(given) != 1:
        raise ValueError(f"{type(inst).__name__} needs exactly one of url=, data=, path= or file_info=")


@attrs.frozen
class Media:
    """Rich media (image, video, voice, file) from a ``url``, raw ``data``, a local ``path``, or
    an already uploaded ``file_info``. Group/C2C upload it first; guilds support images only."""

    file_type: FileType = FileType.IMAGE
    url: str | None = None
    data: bytes | None = attrs.field(default=None, repr=lambda d: f"<{len(d)} bytes>" if d else "None")
    path: str | Path | None = None
    file_info: str | None = None
    filename: str = "image.png"

    def __attrs_post_init__(self) -> None:
        _source_check(self)

    def read(self) -> bytes | None:
        """The bytes to upload (from ``data`` or ``path``), or ``None`` for URL / file_info media.
        Raises ``OSError`` if ``path`` cannot be read."""
        if self.data is not None:
            return self.data
        if self.path is not None:
            return Path(self.path).read_bytes()
        return None

    def upload_fields(self) -> dict[str, Any]:
        """The body of ``POST /v2/.../files`` for this media (``srv_send_msg`` false)."""
        body: dict[str, Any] = {"file_type": int(self.file_type), "srv_send_msg": False}
        if self.url is not None:
            body["url"] = self.url
        else:
            raw = self.read()
            assert raw is not None
            body["file_data"] = base64.b64encode(raw).decode("ascii")
        return body


def Image(url: str | None = None, *, data: bytes | None = None, path: str | Path | None = None,
          file_info: str | None = None) -> Media:
    """An image ``Media`` from a URL, bytes, a local file or an uploaded ``file_info``."""
    name = Path(path).name if path is not None else "image.png"
    return Media(FileType.IMAGE, url=url, data=data, path=path, file_info=file_info, filename=name)


@attrs.frozen
class Reference:
    """Quote a message (guild/DM: ``message_reference``; group/C2C: unsupported by the docs)."""

    message_id: str
    ignore_get_message_error: bool = True


#: Anything ``compose`` accepts as a part.
Part = Union[str, Text, Markdown, Keyboard, Ark, Embed, Media, Reference]


@attrs.define
class Outbound:
    """A compiled message: the JSON ``body`` plus what must happen before sending it.

    ``file``: ``(filename, bytes)`` to send as multipart ``file_image`` (guild/DM local images).
    ``upload``: a ``Media`` to upload first (group/C2C); put the result in ``body['media']``.
    """

    scene: Scene
    body: dict[str, Any]
    file: tuple[str, bytes] | None = attrs.field(default=None, repr=lambda f: f"<{f[0]}>" if f else "None")
    upload: Media | None = None


def compose(scene: Scene, parts: Iterable[Part]) -> Outbound:
    """Compile ``parts`` into the send body for ``scene`` (see the module docstring).

    Raises ``ValueError`` for an empty message, two markdowns/arks/embeds/media, or (group/C2C)
    two different rich kinds at once.
    """
    texts: list[str] = []
    single: dict[str, Any] = {}
    for part in parts:
        if isinstance(part, str):
            texts.append(part)
        elif isinstance(part, Text):
            texts.append(part.content)
        else:
            slot = _SLOTS.get(type(part))
            if slot is None:
                raise ValueError(f"cannot send a {type(part).__name__}: use str, Text, Markdown, "
                                 "Keyboard, Ark, Embed, Media/Image or Reference")
            if slot in single:
                raise ValueError(f"a message can hold only one {type(part).__name__}")
            single[slot] = part
    content = "".join(texts)
    body: dict[str, Any] = {}
    if content:
        body["content"] = content
    for slot in ("markdown", "keyboard", "ark", "embed"):
        if slot in single:
            body[slot] = single[slot].to_dict()
    if "reference" in single:
        ref: Reference = single["reference"]
        body["message_reference"] = {"message_id": ref.message_id,
                                     "ignore_get_message_error": ref.ignore_get_message_error}
    media: Media | None = single.get("media")
    out = Outbound(scene=scene, body=body)
    if scene.is_open_platform:
        kinds = [k for k in ("markdown", "ark", "embed", "media") if k in single]
        if len(kinds) > 1:
            raise ValueError(f"a group/C2C message has one msg_type; got {', '.join(kinds)}")
        kind = kinds[0] if kinds else "text"
        body["msg_type"] = int({"text": MsgType.TEXT, "markdown": MsgType.MARKDOWN, "ark": MsgType.ARK,
                                "embed": MsgType.EMBED, "media": MsgType.MEDIA}[kind])
        if media is not None:
            body.setdefault("content", " ")
            if media.file_info is not None:
                body["media"] = {"file_info": media.file_info}
            else:
                out.upload = media
        if "keyboard" in single and kind not in ("markdown", "text"):
            raise ValueError("a keyboard goes with text or markdown messages only")
    elif media is not None:
        if media.file_type is not FileType.IMAGE:
            raise ValueError("guild and DM messages can carry images only")
        if media.url is not None:
            body["image"] = media.url
        elif media.file_info is not None:
            raise ValueError("file_info media is for group/C2C; give the guild image as url/data/path")
        else:
            raw = media.read()
            assert raw is not None
            out.file = (media.filename, raw)
    if out.file is None and (not body or set(body) <= {"msg_type", "message_reference", "keyboard"}):
        raise ValueError("the message is empty: give text, Markdown, Ark, Embed or an Image/Media")
    return out


_SLOTS: dict[type, str] = {
    Markdown: "markdown", Keyboard: "keyboard", Ark: "ark", Embed: "embed",
    Media: "media", Reference: "reference",
}
