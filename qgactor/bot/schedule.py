"""A cron-like schedule parser (pure logic, no I/O).

Five fields, ``minute hour day-of-month month day-of-week``, or six with a leading
``second`` field. Each field takes ``*``, numbers, ranges ``a-b``, steps ``*/n`` / ``a-b/n`` /
``a/n``, comma lists, month names (``jan``..``dec``) and weekday names (``sun``..``sat``; 0 and 7
are Sunday). Macros: ``@yearly``, ``@monthly``, ``@weekly``, ``@daily``, ``@hourly``. As in
cron, when both day-of-month and day-of-week are restricted, a day matching either fires.
"""

from __future__ import annotations

import datetime as dt

import attrs

__all__ = ["CronSchedule", "CronError", "parse_cron"]


class CronError(ValueError):
    """Raised for an invalid schedule; the message names the field and the valid range."""


_MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = {m: i + 1 for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"])}
_DAYS = {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])}
_FIELDS = [  # name, low, high, names
    ("second", 0, 59, {}),
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
]


def _value(token: str, name: str, lo: int, hi: int, names: dict[str, int]) -> int:
    t = token.lower()
    if t in names:
        return names[t]
    try:
        v = int(t)
    except ValueError:
        raise CronError(f"cron {name} field: {token!r} is not a number or name") from None
    if not lo <= v <= hi:
        raise CronError(f"cron {name} field: {v} is outside {lo}-{hi}")
    return v


def _parse_field(text: str, name: str, lo: int, hi: int, names: dict[str, int]) -> frozenset[int]:
    out: set[int] = set()
    for part in text.split(","):
        if not part:
            raise CronError(f"cron {name} field: empty list item in {text!r}")
        step = 1
        if "/" in part:
            part, step_s = part.split("/", 1)
            try:
                step = int(step_s)
            except ValueError:
                raise CronError(f"cron {name} field: step {step_s!r} is not a number") from None
            if step < 1:
                raise CronError(f"cron {name} field: step must be at least 1")
        if part == "*":
            a, b = lo, hi
        elif "-" in part:
            a_s, b_s = part.split("-", 1)
            a, b = _value(a_s, name, lo, hi, names), _value(b_s, name, lo, hi, names)
            if a > b:
                raise CronError(f"cron {name} field: range {part!r} runs backwards")
        else:
            a = _value(part, name, lo, hi, names)
            b = hi if step > 1 else a
        out.update(range(a, b + 1, step))
    return frozenset(out)


@attrs.frozen(slots=True)
class CronSchedule:
    """A parsed schedule; :meth:`next_after` gives the next firing time."""

    expression: str
    seconds: frozenset[int]
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    days_restricted: bool
    weekdays_restricted: bool

    def _day_ok(self, d: dt.date) -> bool:
        wd = (d.weekday() + 1) % 7  # Python: Monday=0 -> cron: Sunday=0
        dom = d.day in self.days
        dow = wd in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return dom or dow
        return dom and dow

    def next_after(self, when: dt.datetime) -> dt.datetime:
        """Return the first firing time strictly after ``when`` (same tzinfo as ``when``).

        Raises:
            CronError: the schedule never fires (e.g. ``0 0 31 2 *``) within eight years.
        """
        t = when.replace(microsecond=0) + dt.timedelta(seconds=1)
        limit = when + dt.timedelta(days=366 * 8)
        while t <= limit:
            if t.month not in self.months:
                y, m = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
                t = t.replace(year=y, month=m, day=1, hour=0, minute=0, second=0)
                continue
            if not self._day_ok(t.date()):
                t = (t + dt.timedelta(days=1)).replace(hour=0, minute=0, second=0)
                continue
            if t.hour not in self.hours:
                t = (t + dt.timedelta(hours=1)).replace(minute=0, second=0)
                continue
            if t.minute not in self.minutes:
                t = (t + dt.timedelta(minutes=1)).replace(second=0)
                continue
            if t.second not in self.seconds:
                t = t + dt.timedelta(seconds=1)
                continue
            return t
        raise CronError(f"cron schedule {self.expression!r} never fires")


def parse_cron(expression: str) -> CronSchedule:
    """Parse a cron expression (see the module docstring).

    Raises:
        CronError: wrong number of fields or an invalid field (the message says which).
    """
    expr = expression.strip()
    text = _MACROS.get(expr.lower(), expr)
    fields = text.split()
    if len(fields) == 5:
        fields = ["0", *fields]
    if len(fields) != 6:
        raise CronError(
            f"cron schedule {expression!r} must have 5 fields (minute hour day month weekday) "
            "or 6 (with a leading second), or be a macro like @daily"
        )
    parsed = [_parse_field(f, *spec) for f, spec in zip(fields, _FIELDS)]
    weekdays = frozenset(0 if d == 7 else d for d in parsed[5])
    sched = CronSchedule(
        expression=expression,
        seconds=parsed[0], minutes=parsed[1], hours=parsed[2], days=parsed[3],
        months=parsed[4], weekdays=weekdays,
        days_restricted=fields[3] != "*", weekdays_restricted=fields[5] != "*",
    )
    return sched
