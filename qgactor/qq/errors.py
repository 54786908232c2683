"""One exception hierarchy for everything the platform layer can fail with.

``QQError`` is the root. ``ApiError`` carries what the platform said (HTTP status, business
code, message, trace id, ``data``) and its subclasses say what kind of failure it is, so that
callers catch the kind they can handle (``RateLimited``, ``ReplyExpired``...) and let the
rest propagate. ``error_for_response`` maps a response to the right subclass; nothing is ever
turned into a silent ``code -1``.

Messages never contain secrets: the token and the app secret are never part of a request
path, and error texts are built only from the method, the path and the platform's reply.
"""

from __future__ import annotations

from typing import Any, Final

__all__ = [
    "QQError",
    "EventParseError",
    "ApiConnectionError",
    "ApiError",
    "AuthError",
    "PermissionDenied",
    "NotFound",
    "BadRequest",
    "RateLimited",
    "ServerError",
    "ReplyExpired",
    "DuplicateMessage",
    "SendUnconfirmed",
    "MessageAudit",
    "error_for_response",
    "RETRYABLE_CODES",
    "TOKEN_CODES",
    "DUPLICATE_CODES",
]


class QQError(Exception):
    """Base class of every error raised by ``qgactor.qq``."""


class EventParseError(QQError, ValueError):
    """An event payload could not be turned into a model (e.g. its ``d`` is not a JSON object).

    ``name`` is the dispatch event name and ``data`` the offending payload. Fix: check that the
    transport passes the frame's ``d`` value, not the whole frame.
    """

    def __init__(self, message: str, *, name: str | None = None, data: Any = None) -> None:
        super().__init__(message)
        self.name = name
        self.data = data


class ApiConnectionError(QQError):
    """The request never got an HTTP answer (DNS, connect, read timeout) after all retries.

    ``method`` and ``path`` say which call; ``__cause__`` holds the last transport error.
    Fix: check the network and the configured API base URL.
    """

    def __init__(self, message: str, *, method: str = "", path: str = "") -> None:
        super().__init__(message)
        self.method = method
        self.path = path


class ApiError(QQError):
    """The platform answered a request with an error.

    Attributes: ``status`` (HTTP status), ``code`` (business code, ``None`` when the body
    had none), ``message`` (the platform's text), ``trace_id`` (``X-Tps-trace-ID``, quote it
    to Tencent support), ``data`` (the error body's ``data`` or the whole body), ``method``
    and ``path`` of the request.
    """

    #: What the caller can do about this kind of error (appended to ``str(err)``).
    hint: str = ""

    def __init__(
        self,
        *,
        status: int,
        code: int | None = None,
        message: str = "",
        trace_id: str | None = None,
        data: Any = None,
        method: str = "",
        path: str = "",
    ) -> None:
        self.status = status
        self.code = code
        self.message = message
        self.trace_id = trace_id
        self.data = data
        self.method = method
        self.path = path
        super().__init__(self._describe())

    def _describe(self) -> str:
        what = f"{self.method} {self.path}".strip() or "request"
        code = f", code {self.code}" if self.code is not None else ""
        text = f": {self.message}" if self.message else ""
        trace = f" (trace id {self.trace_id})" if self.trace_id else ""
        hint = f". {self.hint}" if self.hint else ""
        return f"{what} failed with HTTP {self.status}{code}{text}{trace}{hint}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.__dict__.copy()))


def _rebuild(cls: type[ApiError], state: dict[str, Any]) -> ApiError:
    err = cls.__new__(cls)
    err.__dict__.update(state)
    Exception.__init__(err, err._describe())
    return err


class AuthError(ApiError):
    """Authentication failed (HTTP 401, token codes 11241-11244, bad appid 11251/11261/11275).

    Raised after the one retry with a freshly fetched token also failed, or when fetching the
    access token itself failed. Fix: check the AppID and AppSecret (or the legacy token).
    """

    hint = "Check the AppID and AppSecret (or legacy token) and the token URL"


class PermissionDenied(ApiError):
    """The bot may not do this (HTTP 403, codes 11253/11254/11264/11265/11281/11282, 304004...).

    Fix: request the API permission for the guild (``create_api_permission_demand``) or give
    the bot the needed role.
    """

    hint = "The bot lacks the permission for this API or target"


class NotFound(ApiError):
    """The API or the object does not exist (HTTP 404/405, codes 10001/10003/10004...)."""

    hint = "Check the ids in the path"


class BadRequest(ApiError):
    """The request was rejected as malformed (HTTP 400, codes 12002, 50006, 50035, 50037...)."""

    hint = "Check the request body against the API reference"


class RateLimited(ApiError):
    """Too many requests (HTTP 429 or codes 20028/22009/304045-304050).

    ``retry_after`` is the wait in seconds the platform asked for, if it said so.
    """

    hint = "Slow down; retry later"

    def __init__(self, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(**kwargs)


class ServerError(ApiError):
    """The platform failed (HTTP 5xx) and retries did not help."""

    hint = "Platform-side failure; retry later"


class ReplyExpired(ApiError):
    """The passive-reply window of ``msg_id``/``event_id`` is over or the id is invalid.

    Codes 304026/304027 (and third-party reported 40034128, 304103, 40034005). Windows:
    group and guild 5 minutes, C2C 60 minutes, at most 5 replies per group/C2C message.
    """

    hint = "The message can no longer be replied to; send without msg_id or drop the reply"


class DuplicateMessage(ApiError):
    """The platform refused a ``(msg_id, msg_seq)`` pair it had already accepted.

    Raised when the *first* attempt of a send gets this error: the caller reused a
    ``msg_seq`` (use the automatic per-message counter of ``ReplyTarget``).
    """

    hint = "This msg_seq was already used for this msg_id; use the next msg_seq"


class SendUnconfirmed(DuplicateMessage):
    """A retried send was refused as a duplicate after an earlier attempt got no clear answer.

    The platform deduplicates on ``(msg_id, msg_seq)``, so this means an earlier attempt
    (which timed out or got a 5xx) most likely *was* delivered, exactly once; the platform's
    answer to it (the message id) is lost. We raise instead of pretending success so that
    the caller knows it has no message id. Do **not** send the message again.
    ``likely_delivered`` is always ``True``.
    """

    hint = "An earlier attempt was most likely delivered; do not resend"
    likely_delivered: Final = True


class MessageAudit(ApiError):
    """The message was accepted but waits for a content audit (codes 304023/304024).

    ``audit_id`` identifies the audit; a ``MESSAGE_AUDIT_PASS``/``MESSAGE_AUDIT_REJECT``
    event with the same ``audit_id`` arrives later. This is not a failure to retry.
    """

    hint = "Wait for the MESSAGE_AUDIT_PASS / MESSAGE_AUDIT_REJECT event with this audit_id"

    def __init__(self, *, audit_id: str | None = None, **kwargs: Any) -> None:
        self.audit_id = audit_id
        super().__init__(**kwargs)


#: Business codes worth one more attempt (transient per spec 6.11 and qg-botsdk's list).
RETRYABLE_CODES: Final = frozenset({
    101, 11241, 11242, 11252, 11263, 11281, 130000, 306003, 306005, 306006,
    501002, 501003, 501004, 501006, 501007, 501011, 501012, 620007, 304082, 304083,
})
#: Codes meaning "the token is missing, wrong or expired": refresh it and retry once.
TOKEN_CODES: Final = frozenset({11241, 11242, 11243, 11244})
#: Codes meaning "this (msg_id, msg_seq) was already sent" (40054005 third-party reported).
DUPLICATE_CODES: Final = frozenset({40054005})
_AUDIT_CODES: Final = frozenset({304023, 304024})
_REPLY_CODES: Final = frozenset({304026, 304027, 40034128, 304103, 40034005})
_AUTH_CODES: Final = TOKEN_CODES | {11251, 11261, 11275}
_PERMISSION_CODES: Final = frozenset({11253, 11254, 11264, 11265, 11282, 304004, 304028})
_NOT_FOUND_CODES: Final = frozenset({10001, 10003, 10004})
_RATE_CODES: Final = frozenset({20028, 22009, *range(304045, 304051)})
_BAD_REQUEST_CODES: Final = frozenset({12002, 50006, 50035, 50037, *range(50054, 50058)})


def error_for_response(
    *,
    status: int,
    body: Any,
    trace_id: str | None,
    method: str,
    path: str,
    retry_after: float | None = None,
) -> ApiError:
    """Build the typed ``ApiError`` for an error answer (``body`` is parsed JSON or text)."""
    code: int | None = None
    message = ""
    data: Any = body
    if isinstance(body, dict):
        raw_code = body.get("code", body.get("err_code"))
        if isinstance(raw_code, int) and not isinstance(raw_code, bool):
            code = raw_code
        elif isinstance(raw_code, str) and raw_code.lstrip("-").isdigit():
            code = int(raw_code)
        message = str(body.get("message", body.get("msg", "")))
        data = body.get("data", body)
        trace_id = trace_id or (body.get("trace_id") if isinstance(body.get("trace_id"), str) else None)
    elif isinstance(body, str):
        message = body[:200]
    common = dict(status=status, code=code, message=message, trace_id=trace_id, data=data,
                  method=method, path=path)
    if code in _AUDIT_CODES:
        audit = data.get("message_audit") if isinstance(data, dict) else None
        audit_id = audit.get("audit_id") if isinstance(audit, dict) else None
        return MessageAudit(audit_id=audit_id, **common)
    if code in DUPLICATE_CODES:
        return DuplicateMessage(**common)
    if code in _REPLY_CODES:
        return ReplyExpired(**common)
    if status == 429 or code in _RATE_CODES:
        return RateLimited(retry_after=retry_after, **common)
    if status == 401 or code in _AUTH_CODES:
        return AuthError(**common)
    if status == 403 or code in _PERMISSION_CODES:
        return PermissionDenied(**common)
    if status in (404, 405) or code in _NOT_FOUND_CODES:
        return NotFound(**common)
    if status >= 500:
        return ServerError(**common)
    if status == 400 or code in _BAD_REQUEST_CODES:
        return BadRequest(**common)
    return ApiError(**common)
