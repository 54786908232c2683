"""Mention stripping and escaping (spec 6.9)."""

from __future__ import annotations

import pytest

from qgactor.qq import at_user, parse_event, strip_mentions
from qgactor.qq.text import channel_link, emoji, escape, mentioned_ids, unescape


@pytest.mark.parametrize("content, expected", [
    ("<@!999> hello", "hello"),
    ("<@999>hello", "hello"),
    ('<qqbot-at-user id="999" /> hello', "hello"),
    ('<qqbot-at-user id="999"/>hello <@!999>', "hello"),
    ("\xa0 hi \u3000", "hi"),
    ("<@!123> hi <@!999>", "<@!123> hi"),  # other users' mentions stay
    ("a &lt;@!999&gt; b", "a <@!999> b"),  # typed text that looks like markup is not a mention
    ("&amp;lt;", "&lt;"),
])
def test_strip_mentions(content: str, expected: str) -> None:
    assert strip_mentions(content, "999") == expected


def test_strip_without_bot_id_only_trims() -> None:
    assert strip_mentions("  <@!999> x ", None) == "<@!999> x"
    assert strip_mentions("&lt;b&gt;", None, unescape_text=False) == "&lt;b&gt;"


def test_mentioned_ids_and_markup_builders() -> None:
    content = f"{at_user('1')} and {at_user('2', legacy=True)} <@!3>"
    assert mentioned_ids(content) == ["1", "2", "3"]
    assert channel_link("5") == "<#5>" and emoji(4) == "<emoji:4>"
    assert unescape(escape("a<b>&c")) == "a<b>&c"


def test_message_text_uses_bot_id() -> None:
    msg = parse_event("MESSAGE_CREATE", {"content": '<qqbot-at-user id="B" /> /help me'}, bot_id="B")
    assert msg.text == "/help me" and msg.mentions_me
    other = parse_event("MESSAGE_CREATE", {"content": "<@!X> /help"}, bot_id="B")
    assert other.text == "<@!X> /help" and not other.mentions_me
