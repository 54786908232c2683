"""Acceptance: Ctrl-C (SIGINT) to a real `qgactor run` stops it gracefully, in reverse start order.

Start order (``qgactor.cli.app``): bot tree (token, sessions, conversations, dispatcher,
scheduler, gateway), then the services: plugins host, plugin watcher, the ``[[actors]]``. So on
SIGINT the application actor stops first (while the plugins still run), then the plugins unload
(while the gateway and dispatcher still run), and the process exits 0 after "stopped".
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from apps_helpers import QGACTOR, interrupt, qgactor_env

PROBE_PLUGIN = '''
import json
from pathlib import Path
from qgactor.plugins import Plugin, command


def states(bot):
    return {n.name: n.state for n in bot.snapshot().walk()}


class Probe(Plugin):
    @command("probe")
    async def probe(self, msg):
        await msg.reply("probe")

    async def on_unload(self):
        s = states(self.bot)
        with open(Path(__file__).parent.parent / "order.jsonl", "a") as f:
            f.write(json.dumps({"who": "plugin on_unload", "gateway": s.get("gateway"),
                                "dispatcher": s.get("dispatcher")}) + "\\n")
'''

PROBE_ACTOR = '''
import json
from pathlib import Path
from qgactor.runtime import Actor


class Probe(Actor):
    def __init__(self, bot, *, out):
        self.bot, self.out = bot, out

    async def on_start(self):
        with open(self.out, "a") as f:
            f.write(json.dumps({"who": "actor on_start"}) + "\\n")

    async def on_stop(self, reason):
        s = {n.name: n.state for n in self.bot.snapshot().walk()}
        with open(self.out, "a") as f:
            f.write(json.dumps({"who": "actor on_stop", "plugins": s.get("plugins"),
                                "plugin:probe": s.get("plugin:probe")}) + "\\n")
'''


def test_sigint_stops_run_gracefully_in_reverse_order(tmp_path: Path) -> None:
    root = tmp_path / "bot"
    (root / "plugins").mkdir(parents=True)
    (root / "actors").mkdir()
    (root / "plugins" / "probe.py").write_text(PROBE_PLUGIN, encoding="utf-8")
    (root / "actors" / "probe.py").write_text(PROBE_ACTOR, encoding="utf-8")
    order = root / "order.jsonl"
    (root / "qgactor.toml").write_text(
        f'[[actors]]\nmodule = "probe"\nclass = "Probe"\nname = "probe"\n'
        f'[actors.options]\nout = {json.dumps(str(order))}\n', encoding="utf-8")
    management = root / ".qgactor" / "management.json"
    log_path = tmp_path / "run.log"
    with log_path.open("w") as log_file:
        proc = subprocess.Popen([str(QGACTOR), "run", "--no-console"], cwd=root,
                                env=qgactor_env(), stdin=subprocess.DEVNULL,
                                stdout=log_file, stderr=log_file)
        try:
            deadline = time.monotonic() + 60
            while not management.exists() and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)  # polling a real condition (the subprocess is not ours to await)
            assert management.exists(), log_path.read_text()
        finally:
            rc = interrupt(proc)
    log = log_path.read_text()
    assert rc == 0, log
    assert "SIGINT received: stopping gracefully" in log
    assert log.rstrip().endswith("qgactor.run  stopped"), log
    assert "Traceback" not in log, log
    assert not management.exists(), "the management file is removed on a graceful stop"
    events = [json.loads(line) for line in order.read_text().splitlines()]
    assert [e["who"] for e in events] == ["actor on_start", "actor on_stop", "plugin on_unload"], events
    # reverse start order: the actor (started last) stops while the plugins still run ...
    assert events[1]["plugins"] == "running" and events[1]["plugin:probe"] == "running", events
    # ... and the plugins unload while the gateway and the dispatcher are still up
    assert events[2]["gateway"] == "running" and events[2]["dispatcher"] == "running", events
