"""The key -> line map used in error messages, on text meant to confuse a naive scanner."""

from __future__ import annotations

import tomllib

from qgactor.config.lines import key_lines, line_of

TRICKY = '''\
# [not.a.table]
a = 1
"quoted.key" = 2
b.c = "x # not a comment"
s = """
[fake]
fake = 3 \\"""
"""
lit = \'\'\'
[also.fake]\'\'\'
arr = [ # a comment ]
  "]", # [
  { inline = "{" },
]
[t]
x = 1
[t.sub]
"y z" = 2
[[aot]]
n = 1
[aot.inner]
k = 2
[[aot]]
n = 2
[[aot.list]]
m = 1
[[aot.list]]
m = 2
[after]
ok = true
'''


def test_tricky_text_maps_every_key_to_its_line() -> None:
    assert tomllib.loads(TRICKY)  # valid TOML
    lines = key_lines(TRICKY)
    expect = {
        ("a",): 2, ("quoted.key",): 3, ("b", "c"): 4, ("s",): 5, ("lit",): 9, ("arr",): 11,
        ("t",): 15, ("t", "x"): 16, ("t", "sub"): 17, ("t", "sub", "y z"): 18,
        ("aot", 0): 19, ("aot", 0, "n"): 20, ("aot", 0, "inner", "k"): 22,
        ("aot", 1, "n"): 24, ("aot", 1, "list", 0, "m"): 26, ("aot", 1, "list", 1, "m"): 28,
        ("after", "ok"): 30,
    }
    for path, line in expect.items():
        assert lines.get(path) == line, (path, lines.get(path), line)
    assert ("fake",) not in lines and ("also",) not in lines and ("not",) not in lines


def test_line_of_falls_back_to_the_enclosing_key() -> None:
    lines = key_lines(TRICKY)
    assert line_of(lines, ("arr", 2, "inline")) == 11  # inside an inline table in an array
    assert line_of(lines, ("t", "missing")) == 15  # a missing key: its table
    assert line_of(lines, ("nowhere",)) is None
