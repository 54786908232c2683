"""Attrs models of the platform's events (spec 4.3) and REST resources (spec 7)."""

from __future__ import annotations

from qgactor.qq.models.base import Model
from qgactor.qq.models.event import Event
from qgactor.qq.models.events import *  # noqa: F403
from qgactor.qq.models.events import __all__ as _events_all
from qgactor.qq.models.messages import *  # noqa: F403
from qgactor.qq.models.messages import __all__ as _messages_all
from qgactor.qq.models.parse import EVENT_MODELS, model_for_event, parse_event
from qgactor.qq.models.resources import *  # noqa: F403
from qgactor.qq.models.resources import __all__ as _resources_all

__all__ = [
    "Model", "Event", "EVENT_MODELS", "parse_event", "model_for_event",
    *_messages_all, *_events_all, *_resources_all,
]
