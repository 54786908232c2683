"""Configuration of the emulator: every clock-based policy and every UNVERIFIED choice.

Spec references are to ``shared/qq-protocol.md``. Tests shrink the time-based values
(heartbeat interval, reply windows, token lifetime) instead of sleeping for minutes.
"""

from __future__ import annotations

from pathlib import Path

import attrs

__all__ = ["EmulatorConfig", "ProactivePolicy"]


#: How proactive (non-reply) sends are treated (spec 6.10: discontinued 2025-04-21):
#: ``"quota"`` | ``"allow"`` | ``"deny"``.
ProactivePolicy = str


@attrs.define(slots=True)
class EmulatorConfig:
    """Settings of one emulator instance.

    All durations are seconds unless the name says ``_ms``. Reply windows and token
    lifetimes run on the platform clock, which ``control.advance_clock()`` can move
    forward, so tests can expire them without sleeping.
    """

    host: str = "127.0.0.1"
    """Interface to listen on."""
    port: int = 0
    """TCP port; 0 picks a free port."""
    world: Path | str | None = None
    """TOML file seeding the world; ``None`` uses the packaged default world."""

    # --- gateway -------------------------------------------------------------------
    heartbeat_interval_ms: int = 45000
    """``heartbeat_interval`` sent in Hello (spec 3.6)."""
    heartbeat_timeout: float | None = None
    """Seconds without a heartbeat before closing with 4009; ``None`` = 2 x interval
    (UNVERIFIED policy, spec 3.6)."""
    replay_buffer: int = 1000
    """Dispatches kept per session for Resume; older seqs cannot be resumed (4007)."""
    resume_window: float = 300.0
    """Seconds a disconnected session stays resumable."""
    resume_unknown_session: str = "op9"
    """Answer to a Resume with an unknown session id: ``"op9"`` or ``"4006"``."""
    reconnect_close_after: float = 1.0
    """After sending op 7, close with 4009 if the client has not closed within this time."""
    allowed_intents: int | None = None
    """Intent bits this bot may use (others close 4014); ``None`` = every known bit."""
    max_shards: int = 16
    """Largest shard count accepted in Identify (larger closes 4010)."""
    recommended_shards: int = 1
    """``shards`` returned by ``GET /gateway/bot``."""
    session_start_total: int = 1000
    """``session_start_limit.total``: Identifies allowed per reset period."""
    session_start_reset_after_ms: int = 86_400_000
    """Period after which ``remaining`` returns to ``total``."""
    session_limit_close_code: int = 4008
    """Close code used to refuse an Identify when ``remaining`` is 0 (UNVERIFIED)."""
    max_concurrency: int = 1
    """``session_start_limit.max_concurrency`` (reported, not enforced)."""

    # --- auth ----------------------------------------------------------------------
    token_lifetime: float = 7200.0
    """Access-token lifetime (spec 2.3)."""
    token_overlap: float = 60.0
    """Within this many seconds of expiry a token request returns a new token; the old
    one stays valid until it expires (spec 2.3)."""
    accept_legacy_token: bool = True
    """Also accept ``Bot {appid}.{token}`` (UNVERIFIED today, spec 2.2)."""

    # --- passive replies (spec 6.10) -----------------------------------------------
    reply_window_guild: float = 300.0
    """Seconds a guild message/event id can be replied to (5 min)."""
    reply_window_dm: float = 300.0
    """Seconds a guild DM id can be replied to (5 min)."""
    reply_window_group: float = 300.0
    """Seconds a group message/event id can be replied to (5 min)."""
    reply_window_c2c: float = 3600.0
    """Seconds a C2C message/event id can be replied to (60 min per send.md; botpy says 5)."""
    replies_per_msg: int = 5
    """Replies allowed per msg_id/event_id for group and C2C."""
    proactive: ProactivePolicy = "quota"
    """``"quota"`` enforces the documented proactive quotas, ``"allow"`` lifts them,
    ``"deny"`` rejects every proactive send."""
    channel_rate_limit: int | None = 5
    """Messages per second per guild channel (error 20028); ``None`` disables."""
    duplicate_seq_code: int = 40054005
    """Business code for a repeated (msg_id, msg_seq) (UNVERIFIED)."""
    reply_limit_code: int = 22009
    """Business code when the 5-replies-per-msg_id cap is exceeded."""
    recall_window: float = 120.0
    """Group/C2C recall window (spec 6.10)."""
    at_messages_also_message_create: bool = False
    """Also dispatch a guild @-message as MESSAGE_CREATE (intent 1<<9), as private-domain bots
    subscribed to both intents see it twice (UNVERIFIED; off by default)."""
    require_online: bool = False
    """Refuse guild/DM sends with 304018 while no gateway session is connected (spec 6.5)."""

    # --- webhook (spec 5) ----------------------------------------------------------
    webhook_url: str | None = None
    """If set, every event is also POSTed here, signed with the secret-derived key."""
    webhook_retries: int = 3
    """Extra attempts after a non-2xx answer or ``{"op":12,"d":1}``."""
    webhook_retry_delay: float = 0.2
    """Seconds between webhook attempts."""
    webhook_timeout: float = 5.0
    """Seconds to wait for the bot's answer to one webhook POST."""

    # --- misc ----------------------------------------------------------------------
    max_body: int = 20 * 1024 * 1024
    """Largest accepted request body (bytes); larger ones get 413 and the connection closes."""
    keep_alive_timeout: float = 30.0
    """Seconds an HTTP connection may wait for its client (idle between requests, or a
    stalled request) before the server closes it. Websockets are not affected."""
    seed: int | None = None
    """Seed for ids and fault rates (deterministic runs)."""
    outbox_limit: int = 100_000
    """Outbox entries kept (oldest dropped first)."""

    def __attrs_post_init__(self) -> None:
        """Reject values that cannot work, saying which field and what is allowed.

        Raises ``ValueError``.
        """
        if self.proactive not in ("quota", "allow", "deny"):
            raise ValueError(f"proactive must be 'quota', 'allow' or 'deny', not {self.proactive!r}")
        if self.resume_unknown_session not in ("op9", "4006"):
            raise ValueError("resume_unknown_session must be 'op9' or '4006'")
        if self.heartbeat_interval_ms <= 0:
            raise ValueError("heartbeat_interval_ms must be positive")
        if self.replay_buffer < 1:
            raise ValueError("replay_buffer must be at least 1")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"port {self.port} is not a TCP port (0 picks a free one)")
        if self.token_overlap < 0 or self.token_lifetime <= self.token_overlap:
            raise ValueError("token_lifetime must be larger than token_overlap (>= 0)")
        if self.max_shards < 1 or self.recommended_shards < 1:
            raise ValueError("max_shards and recommended_shards must be at least 1")
        if not self.keep_alive_timeout > 0:
            raise ValueError("keep_alive_timeout must be a positive number of seconds")
        if self.max_body < 0:
            raise ValueError("max_body must be a number of bytes (>= 0)")

    def heartbeat_timeout_seconds(self) -> float:
        """The effective heartbeat timeout in seconds."""
        if self.heartbeat_timeout is not None:
            return self.heartbeat_timeout
        return 2 * self.heartbeat_interval_ms / 1000.0

    def reply_window(self, scene: str) -> float:
        """The passive-reply window of ``scene`` (guild, dm, group, c2c)."""
        if scene == "group":
            return self.reply_window_group
        if scene == "guild":
            return self.reply_window_guild
        if scene == "c2c":
            return self.reply_window_c2c
        if scene == "dm":
            return self.reply_window_dm
        raise KeyError(scene)
