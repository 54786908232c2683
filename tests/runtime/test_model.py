"""Property test: restart types against a simple model of OTP one_for_one semantics."""

from __future__ import annotations

from typing import Any

import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from qgactor.runtime import Actor, ChildSpec, Restart, open_actor_nursery

RESTARTS = [Restart.PERMANENT, Restart.TRANSIENT, Restart.TEMPORARY]


class Child(Actor):
    async def receive(self, msg: Any) -> Any:
        if msg == "crash":
            raise RuntimeError("crash")
        if msg == "stop":
            self.ctx.stop()
        return msg


ops = st.lists(st.tuples(st.sampled_from(["crash", "stop", "kill", "ping"]), st.integers(0, 3)),
               max_size=25)


@settings(max_examples=40, deadline=None)
@given(types=st.lists(st.sampled_from(RESTARTS), min_size=4, max_size=4), script=ops)
def test_restart_types_follow_the_model(types: list[Restart], script: list[tuple[str, int]]) -> None:
    async def main() -> None:
        async with open_actor_nursery(backoff=None, max_restarts=1000) as an:
            refs = [await an.spawn(ChildSpec(Child, name=f"c{i}", restart=t))
                    for i, t in enumerate(types)]
            alive = [True] * 4
            restarts = [0] * 4
            for op, i in script:
                ref = refs[i]
                if not alive[i]:
                    continue
                if op == "kill":
                    await an.stop(ref)
                    alive[i] = False
                elif op == "ping":
                    assert await ref.ask("ping") == "ping"
                else:
                    await ref.tell(op)
                    crash = op == "crash"
                    t = types[i]
                    if t is Restart.PERMANENT or (t is Restart.TRANSIENT and crash):
                        restarts[i] += 1
                    else:
                        alive[i] = False
                with trio.fail_after(2):  # settle: no child between incarnations
                    while any(r.state not in ("running", "dead") or r.mailbox_depth for r in refs):
                        await trio.sleep(0.0005)
                assert [r.alive for r in refs] == alive
                assert [r.restarts for r in refs] == restarts
                assert sorted(an._registry) == [f"c{k}" for k in range(4) if alive[k]]
                assert an.children == [r for r in refs if r.alive]

    trio.run(main)


@settings(max_examples=40, deadline=None)
@given(strategy=st.sampled_from(["one_for_all", "rest_for_one"]),
       types=st.lists(st.sampled_from(RESTARTS), min_size=4, max_size=4),
       script=st.lists(st.tuples(st.sampled_from(["crash", "stop"]), st.integers(0, 3)), max_size=15))
def test_strategies_follow_the_model(strategy: str, types: list[Restart],
                                     script: list[tuple[str, int]]) -> None:
    from qgactor.runtime import Strategy, Supervisor

    async def main() -> None:
        async with open_actor_nursery(backoff=None, max_restarts=1000) as an:
            sup = await an.spawn(Supervisor.spec(
                "sup", [ChildSpec(Child, name=f"c{i}", restart=t) for i, t in enumerate(types)],
                strategy=Strategy(strategy), max_restarts=1000, backoff=None))
            refs = [an.lookup(f"c{i}") for i in range(4)]
            alive = [True] * 4
            restarts = [0] * 4
            for op, i in script:
                if not alive[i]:
                    continue
                await refs[i].tell(op)  # type: ignore[union-attr]
                t = types[i]
                if t is Restart.PERMANENT or (t is Restart.TRANSIENT and op == "crash"):
                    restarts[i] += 1
                    others = range(4) if strategy == "one_for_all" else range(i + 1, 4)
                    for k in others:
                        if k == i or not alive[k]:
                            continue
                        if types[k] is Restart.TEMPORARY:
                            alive[k] = False
                        else:
                            restarts[k] += 1
                else:
                    alive[i] = False
                with trio.fail_after(2):
                    while any(r.state not in ("running", "dead") or r.mailbox_depth
                              for r in refs):  # type: ignore[union-attr]
                        await trio.sleep(0.0005)
                assert [r.alive for r in refs] == alive  # type: ignore[union-attr]
                assert [r.restarts for r in refs] == restarts  # type: ignore[union-attr]
            assert sup.alive and sup.restarts == 0

    trio.run(main)
