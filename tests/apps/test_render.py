"""How the chat console shows what a bot sent."""

from __future__ import annotations

from qgactor.console.render import render_message


def test_text_markdown_keyboard_and_placeholders() -> None:
    body = {
        "msg_type": 2,
        "content": "hi",
        "markdown": {"content": "# Title\n**bold**"},
        "keyboard": {"content": {"rows": [{"buttons": [
            {"id": "1", "render_data": {"label": "Yes"}, "action": {"type": 2, "data": "/yes"}},
            {"id": "2", "render_data": {"label": "Docs"}, "action": {"type": 0, "data": "https://q.qq.com"}},
        ]}]}},
    }
    assert render_message(body) == ["hi", "[markdown]", "# Title", "**bold**", "[Yes → /yes] [Docs ↗ https://q.qq.com]"]


def test_media_image_ark_embed_template() -> None:
    assert render_message({"msg_type": 7, "content": " ", "media": {"file_info": "abc"}}) == ["[media: abc]"]
    assert render_message({"image": "http://x/y.png"}) == ["[image: http://x/y.png]"]
    assert render_message({"ark": {"template_id": 23}}) == ["[ark template 23]"]
    assert render_message({"embed": {"title": "T"}}) == ["[embed: T]"]
    assert render_message({"markdown": {"custom_template_id": "m1", "params": [{"key": "a", "values": ["1", "2"]}]},
                           "keyboard": {"id": "kb"}}) == ["[markdown template m1: a=1,2]", "[keyboard template kb]"]
    assert render_message({"msg_type": 3}) == ["[message type 3]"]
