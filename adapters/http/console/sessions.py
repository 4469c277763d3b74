"""The support console's browser sessions: made at sign-in, ended by logout, by an idle
time (LEDGER_CONSOLE_IDLE_S without a request) and by an absolute time after sign-in
(LEDGER_CONSOLE_ABSOLUTE_S), whichever comes first. Kept in Redis when LEDGER_REDIS_URL is
set (every API process sees them), in process otherwise. Each session carries its own CSRF
token, which every console form posts back."""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from adapters.redis.sessions import MemorySessionStore, RedisSessionStore
from adapters.settings import Settings

PREFIX = "ledger:console-session:"


class Store(Protocol):
    def put(self, session_id: str, value: dict[str, Any], ttl_s: int) -> None: ...

    def get(self, session_id: str) -> dict[str, Any] | None: ...

    def delete(self, session_id: str) -> None: ...


@dataclass(frozen=True)
class ConsoleSession:
    session_id: str
    principal_id: str
    csrf_token: str
    signed_in_at: float

    def csrf_matches(self, given: str | None) -> bool:
        return given is not None and hmac.compare_digest(given, self.csrf_token)


class ConsoleSessions:
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
    def from_settings(cls, settings: Settings) -> ConsoleSessions:
        store: Store = (
            RedisSessionStore.from_url(settings.redis_url, PREFIX)
            if settings.redis_url
            else MemorySessionStore()
        )
        return cls(store, settings.console_idle_s, settings.console_absolute_s)

    def start(self, principal_id: str) -> ConsoleSession:
        session = ConsoleSession(
            secrets.token_urlsafe(32), principal_id, secrets.token_urlsafe(32), self.now()
        )
        self._keep(session, self.now())
        return session

    def find(self, session_id: str) -> ConsoleSession | None:
        """The live session, its idle time started again; None when unknown or expired."""
        value = self._store.get(session_id)
        if value is None:
            return None
        now = self.now()
        session = ConsoleSession(session_id, **value["session"])
        if now - value["seen_at"] >= self.idle_s or now - session.signed_in_at >= self.absolute_s:
            self._store.delete(session_id)
            return None
        self._keep(session, now)
        return session

    def end(self, session_id: str) -> None:
        self._store.delete(session_id)

    def _keep(self, session: ConsoleSession, now: float) -> None:
        """Stored until the sooner of its two expiries (the store forgets it then; the times
        kept in the value decide, so a store's coarse expiry never lengthens a session)."""
        left = min(self.idle_s, session.signed_in_at + self.absolute_s - now)
        value = {
            "session": {
                "principal_id": session.principal_id,
                "csrf_token": session.csrf_token,
                "signed_in_at": session.signed_in_at,
            },
            "seen_at": now,
        }
        self._store.put(session.session_id, value, max(1, int(left) + 1))
