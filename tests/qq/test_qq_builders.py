"""Outbound builders: the body each scene gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from qgactor.qq import Ark, Button, ButtonAction, Embed, FileType, Image, Keyboard, Markdown, Media, Reference, Scene
from qgactor.qq.builders import compose


def test_text_per_scene() -> None:
    assert compose(Scene.GUILD, ["a", "b"]).body == {"content": "ab"}
    assert compose(Scene.DM, ["a"]).body == {"content": "a"}
    assert compose(Scene.GROUP, ["a"]).body == {"content": "a", "msg_type": 0}
    assert compose(Scene.C2C, ["a"]).body == {"content": "a", "msg_type": 0}


def test_markdown_template_and_content() -> None:
    md = Markdown(template_id=7, params={"title": "T", "items": ["a", "b"]})
    assert md.to_dict() == {"template_id": 7, "params": [{"key": "title", "values": ["T"]},
                                                         {"key": "items", "values": ["a", "b"]}]}
    body = compose(Scene.GROUP, [Markdown(content="# hi"), Keyboard(template_id="kb1")]).body
    assert body == {"markdown": {"content": "# hi"}, "keyboard": {"id": "kb1"}, "msg_type": 2}
    assert compose(Scene.GUILD, [Markdown(custom_template_id="c1")]).body == {"markdown": {"custom_template_id": "c1"}}
    with pytest.raises(ValueError):
        Markdown(content="x", template_id=1)
    with pytest.raises(ValueError):
        Markdown()


def test_keyboard_rows_and_limits() -> None:
    kb = Keyboard(rows=[[Button("Yes", "yes"), Button("Docs", "https://x", action=ButtonAction.LINK)]])
    rows = kb.to_dict()["content"]["rows"]
    assert [b["id"] for b in rows[0]["buttons"]] == ["1", "2"]
    assert rows[0]["buttons"][1]["action"]["type"] == 0
    assert rows[0]["buttons"][0]["render_data"] == {"label": "Yes", "visited_label": "Yes", "style": 1}
    with pytest.raises(ValueError):
        Keyboard(rows=[[Button("x", "y")] * 6])
    with pytest.raises(ValueError):
        Keyboard(template_id="a", rows=[[Button("x", "y")]])


def test_ark_helpers() -> None:
    ark23 = Ark.link_list("d", "p", [("one", "https://l"), ("two", None)]).to_dict()
    assert ark23["template_id"] == 23
    assert ark23["kv"][2] == {"key": "#LIST#", "obj": [
        {"obj_kv": [{"key": "desc", "value": "one"}, {"key": "link", "value": "https://l"}]},
        {"obj_kv": [{"key": "desc", "value": "two"}]}]}
    ark24 = Ark.text_thumbnail("d", "p", "t", "md", "img", "link", "sub").to_dict()
    assert ark24["template_id"] == 24 and len(ark24["kv"]) == 7
    ark37 = Ark.big_image("p", "t", "s", "cover", "url").to_dict()
    assert {kv["key"] for kv in ark37["kv"]} == {"#PROMPT#", "#METATITLE#", "#METASUBTITLE#", "#METACOVER#",
                                                 "#METAURL#"}
    assert compose(Scene.C2C, [Ark.big_image("p", "t", "s", "c", "u")]).body["msg_type"] == 3


def test_embed() -> None:
    body = compose(Scene.GUILD, [Embed("Title", "prompt", thumbnail="http://t", fields=["a", "b"])]).body
    assert body == {"embed": {"title": "Title", "prompt": "prompt", "thumbnail": {"url": "http://t"},
                              "fields": [{"name": "a"}, {"name": "b"}]}}
    assert compose(Scene.GROUP, [Embed("T")]).body["msg_type"] == 4


def test_images_per_scene(tmp_path: Path) -> None:
    assert compose(Scene.GUILD, [Image("http://i/x.png"), "cap"]).body == {"content": "cap", "image": "http://i/x.png"}
    file = tmp_path / "pic.jpg"
    file.write_bytes(b"\xff\xd8jpeg")
    out = compose(Scene.DM, [Image(path=file)])
    assert out.file == ("pic.jpg", b"\xff\xd8jpeg") and out.body == {}
    group = compose(Scene.GROUP, [Image("http://i/x.png")])
    assert group.body == {"msg_type": 7, "content": " "} and group.upload is not None
    assert group.upload.upload_fields() == {"file_type": 1, "srv_send_msg": False, "url": "http://i/x.png"}
    raw = compose(Scene.C2C, [Media(FileType.VIDEO, data=b"abc"), "caption"])
    assert raw.body["content"] == "caption" and raw.upload is not None
    assert raw.upload.upload_fields()["file_data"] == "YWJj"
    ready = compose(Scene.GROUP, [Image(file_info="FI")])
    assert ready.body == {"msg_type": 7, "content": " ", "media": {"file_info": "FI"}} and ready.upload is None
    with pytest.raises(ValueError):
        compose(Scene.GUILD, [Media(FileType.VIDEO, url="http://v")])
    with pytest.raises(ValueError):
        Image()


def test_reference_and_errors() -> None:
    body = compose(Scene.GUILD, ["x", Reference("m1")]).body
    assert body["message_reference"] == {"message_id": "m1", "ignore_get_message_error": True}
    with pytest.raises(ValueError, match="empty"):
        compose(Scene.GROUP, [])
    with pytest.raises(ValueError, match="empty"):
        compose(Scene.GUILD, [Reference("m1")])
    with pytest.raises(ValueError, match="one msg_type"):
        compose(Scene.GROUP, [Markdown(content="x"), Embed("t")])
    with pytest.raises(ValueError, match="only one"):
        compose(Scene.GUILD, [Embed("a"), Embed("b")])
    with pytest.raises(ValueError, match="cannot send"):
        compose(Scene.GUILD, [3])  # type: ignore[list-item]
