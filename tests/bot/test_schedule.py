"""The cron-like schedule parser."""

from __future__ import annotations

import datetime as dt

import pytest

from qgactor.bot.schedule import CronError, parse_cron

T0 = dt.datetime(2026, 11, 21, 15, 21, 7)  # a Saturday


def test_every_minute_and_steps() -> None:
    assert parse_cron("* * * * *").next_after(T0) == dt.datetime(2026, 11, 21, 15, 22)
    assert parse_cron("*/15 * * * *").next_after(T0) == dt.datetime(2026, 11, 21, 15, 30)
    assert parse_cron("5/20 * * * *").next_after(T0) == dt.datetime(2026, 11, 21, 15, 25)


def test_weekdays_names_and_ranges() -> None:
    s = parse_cron("0 9-17/4 * * mon-fri")
    assert s.next_after(T0) == dt.datetime(2026, 11, 23, 9, 0)
    assert s.next_after(dt.datetime(2026, 11, 23, 9, 0)) == dt.datetime(2026, 11, 23, 13, 0)
    assert parse_cron("0 0 * * 7").next_after(T0) == dt.datetime(2026, 11, 22)  # 7 = Sunday


def test_dom_or_dow_when_both_restricted() -> None:
    s = parse_cron("0 0 1 * mon")
    assert s.next_after(T0) == dt.datetime(2026, 11, 23)  # Monday comes before Dec 1
    assert s.next_after(dt.datetime(2026, 11, 30, 1)) == dt.datetime(2026, 12, 1)


def test_seconds_field_and_macros() -> None:
    assert parse_cron("*/10 * * * * *").next_after(T0) == dt.datetime(2026, 11, 21, 15, 21, 10)
    assert parse_cron("@daily").next_after(T0) == dt.datetime(2026, 11, 22)
    assert parse_cron("@yearly").next_after(T0) == dt.datetime(2027, 1, 1)
    assert parse_cron("0 0 29 feb *").next_after(T0) == dt.datetime(2028, 2, 29)


@pytest.mark.parametrize(
    "expr, fragment",
    [
        ("* * * *", "must have 5 fields"),
        ("60 * * * *", "minute field: 60 is outside 0-59"),
        ("* 25 * * *", "hour field"),
        ("* * * foo *", "not a number or name"),
        ("*/0 * * * *", "step must be at least 1"),
        ("5-1 * * * *", "runs backwards"),
    ],
)
def test_errors_name_the_field(expr: str, fragment: str) -> None:
    with pytest.raises(CronError, match=fragment):
        parse_cron(expr)


def test_never_firing_schedule_is_an_error() -> None:
    with pytest.raises(CronError, match="never fires"):
        parse_cron("0 0 31 2 *").next_after(T0)
