"""Ports of the one payment flow (checkout) besides the processors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ledger.errors import DomainError, ErrorKind


@dataclass(frozen=True)
class HumanCheckResult:
    passed: bool
    error_codes: tuple[str, ...] = ()
    hostname: str | None = None
    action: str | None = None


class HumanCheckUnavailable(DomainError):
    """The bot check could not be verified right now; nothing was started."""

    code = "human_check_unavailable"
    kind = ErrorKind.UNAVAILABLE


class HumanCheck(Protocol):
    """Verifies a challenge token (Cloudflare Turnstile) server side. Tokens are single use:
    a second verification of the same token fails."""

    site_key: str

    def verify(self, token: str, remote_ip: str | None, idempotency_key: str) -> HumanCheckResult:
        """Raises HumanCheckUnavailable when the verifier cannot be reached."""
        ...

    def close(self) -> None:
        """Releases its connections (when the container closes)."""
        ...


class SessionStoreUnavailable(DomainError):
    """The payment-session store (Redis) could not be reached; try again."""

    code = "session_store_unavailable"
    kind = ErrorKind.UNAVAILABLE


class SessionStore(Protocol):
    """Short-lived payment sessions (Redis in production: shared by every API process and
    gone after their time to live). Values are JSON-ready dicts. Every method raises
    SessionStoreUnavailable when the store cannot be reached."""

    def put(self, session_id: str, value: dict[str, Any], ttl_s: int) -> None: ...

    def get(self, session_id: str) -> dict[str, Any] | None:
        """None when unknown or expired."""
        ...

    def replace(self, session_id: str, value: dict[str, Any]) -> None:
        """Overwrites a live session, keeping its time to live (nothing if it expired)."""
        ...
