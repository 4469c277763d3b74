"""Browser sessions: made at sign-in (a single-use link), ended by sign-out, by an idle time
without a request and by an absolute time after sign-in, whichever comes first. Kept in
Redis when LEDGER_REDIS_URL is set (every API process sees them), in process otherwise; each
front end keeps its own under its own key prefix. Each session carries its own CSRF token,
which every form posts back, and knows its principal and, for a customer's session, the one
account it is bound to (and where to send the customer back)."""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, Self
from uuid import UUID

from adapters.redis.sessions import MemorySessionStore, RedisSessionStore


class Store(Protocol):
    def put(self, session_id: str, value: dict[str, Any], ttl_s: int) -> None: ...

    def get(self, session_id: str) -> dict[str, Any] | None: ...

    def delete(self, session_id: str) -> None: ...


@dataclass(frozen=True)
class BrowserSession:
    session_id: str
    principal_id: str
    csrf_token: str
    signed_in_at: float
    account_id: UUID | None = None  # a customer's session: the one account it reaches
    return_url: str | None = None  # where the customer goes back to (an allowed URL)

    def csrf_matches(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given, self.csrf_token)


class BrowserSessions:
    def __init__(
        self,
        store: Store,
        idle_s: int,
        absolute_s: int,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self.idle_s = idle_s
        self.absolute_s = absolute_s
        self.now = now

    @classmethod
    def kept(cls, redis_url: str | None, prefix: str, idle_s: int, absolute_s: int) -> Self:
        """In Redis under `prefix` when a Redis URL is set, else in process."""
        store: Store = (
            RedisSessionStore.from_url(redis_url, prefix) if redis_url else MemorySessionStore()
        )
        return cls(store, idle_s, absolute_s)

    def start(
        self, principal_id: str, account_id: UUID | None = None, return_url: str | None = None
    ) -> BrowserSession:
        session = BrowserSession(
            secrets.token_urlsafe(32),
            principal_id,
            secrets.token_urlsafe(32),
            self.now(),
            account_id,
            return_url,
        )
        self._keep(session, self.now())
        return session

    def find(self, session_id: str) -> BrowserSession | None:
        """The live session, its idle time started again; None when unknown or expired."""
        value = self._store.get(session_id)
        if value is None:
            return None
        now = self.now()
        session = _session(session_id, value["session"])
        if now - value["seen_at"] >= self.idle_s or now - session.signed_in_at >= self.absolute_s:
            self._store.delete(session_id)
            return None
        self._keep(session, now)
        return session

    def end(self, session_id: str) -> None:
        self._store.delete(session_id)

    def _keep(self, session: BrowserSession, now: float) -> None:
        """Stored until the sooner of its two expiries (the store forgets it then; the times
        kept in the value decide, so a store's coarse expiry never lengthens a session)."""
        left = min(self.idle_s, session.signed_in_at + self.absolute_s - now)
        value = {
            "session": {
                "principal_id": session.principal_id,
                "csrf_token": session.csrf_token,
                "signed_in_at": session.signed_in_at,
                "account_id": str(session.account_id) if session.account_id else None,
                "return_url": session.return_url,
            },
            "seen_at": now,
        }
        self._store.put(session.session_id, value, max(1, int(left) + 1))


def _session(session_id: str, kept: dict[str, Any]) -> BrowserSession:
    account = kept.get("account_id")
    return BrowserSession(
        session_id,
        kept["principal_id"],
        kept["csrf_token"],
        kept["signed_in_at"],
        UUID(account) if account else None,
        kept.get("return_url"),
    )
