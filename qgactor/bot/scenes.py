"""Scene helpers: the message events of each scene and parsing scene selections.

``Scene`` itself is the platform layer's (``qgactor.qq.scene.Scene``).
"""

from __future__ import annotations

from typing import Iterable

from qgactor.qq.scene import Scene

__all__ = ["Scene", "parse_scenes", "MESSAGE_EVENTS", "SCENE_OF_EVENT"]


#: The message-creating events and the scene each belongs to.
SCENE_OF_EVENT: dict[str, Scene] = {
    "AT_MESSAGE_CREATE": Scene.GUILD,
    "MESSAGE_CREATE": Scene.GUILD,
    "DIRECT_MESSAGE_CREATE": Scene.DM,
    "GROUP_AT_MESSAGE_CREATE": Scene.GROUP,
    "GROUP_MESSAGE_CREATE": Scene.GROUP,
    "C2C_MESSAGE_CREATE": Scene.C2C,
}
MESSAGE_EVENTS = frozenset(SCENE_OF_EVENT)

ALL_SCENES = frozenset(Scene)


def parse_scenes(scenes: Iterable[Scene | str] | Scene | str | None) -> frozenset[Scene]:
    """Normalise a scene selection (names like ``"guild"`` or :class:`Scene` members).

    ``None`` means every scene.

    Raises:
        ValueError: an unknown scene name (the message lists the valid ones).
    """
    if scenes is None:
        return ALL_SCENES
    if isinstance(scenes, (Scene, str)):
        scenes = [scenes]
    out = set()
    for s in scenes:
        if isinstance(s, Scene):
            out.add(s)
            continue
        try:
            out.add(Scene(str(s).lower()))
        except ValueError:
            raise ValueError(
                f"unknown scene {s!r}; valid scenes are {', '.join(x.value for x in Scene)}"
            ) from None
    if not out:
        raise ValueError("scenes must name at least one of guild, dm, group, c2c")
    return frozenset(out)
