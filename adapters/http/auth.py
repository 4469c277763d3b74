"""Principals and API keys.

Every caller presents `Authorization: Bearer <key>`. Keys are kept as SHA-256 hashes (never
in plain text), each bound to a principal: its kind (customer, service, support), its id,
its scopes and, for customers, the one account it may reach. Keys are long random strings,
so a fast hash is enough (no password stretching needed).

Two sources: fixed entries (LEDGER_API_KEYS_FILE, the embedded default's development keys,
tests), and a `KeyDirectory` (the `api_keys` table, managed by `ledger keys`), whose keys
can expire and be revoked. A key read from the directory is trusted for `cache_s` seconds
(LEDGER_API_KEY_CACHE_S, 5 by default): a revoked or expired key stops working within that
time in every API process, without a restart.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Protocol
from uuid import UUID

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from adapters.http.access_log import principal_kind_is
from adapters.http.problems import EdgeError
from adapters.http.security import address_key, client_address
from ledger.meta import ActorKind

SCOPES = (
    "accounts:read",
    "accounts:write",
    "billing:write",
    "billing:run",
    "console:links",
    "portal:sessions",
)
CACHE_MAX = 10_000


class Unauthenticated(EdgeError):
    """A valid API key is required."""

    code = "unauthenticated"
    http_status = 401


class Forbidden(EdgeError):
    """This principal may not call this route."""

    code = "forbidden"
    http_status = 403


class Principal(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    kind: ActorKind
    scopes: frozenset[str] = Field(default_factory=frozenset)
    account_id: UUID | None = None


class ApiKeyEntry(Principal):
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]

    def principal(self) -> Principal:
        return Principal(id=self.id, kind=self.kind, scopes=self.scopes, account_id=self.account_id)


class StoredKey(ApiKeyEntry):
    """A key of the directory: it has an id to list and revoke it by, and may expire."""

    key_id: str
    created_at: datetime
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    def state(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


class KeyDirectory(Protocol):
    """Where managed keys live (the `api_keys` table)."""

    def find(self, sha256: str) -> StoredKey | None: ...

    def active_principal(self, principal_id: str) -> Principal | None:
        """The principal of one of `principal_id`'s keys that is neither revoked nor
        expired; None when it has none."""
        ...


class ApiKeys:
    def __init__(
        self,
        entries: Iterable[ApiKeyEntry],
        directory: KeyDirectory | None = None,
        cache_s: float = 5.0,
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._by_hash = {e.sha256: e.principal() for e in entries}
        self._directory = directory
        self._cache_s = cache_s
        self._monotonic = monotonic
        self._now = now
        self._cache: dict[str, tuple[float, StoredKey | None]] = {}

    @classmethod
    def from_file(cls, path: Path) -> ApiKeys:
        return cls(read_entries(path))

    def authenticate(self, token: str) -> Principal:
        digest = hash_key(token)
        principal = self._by_hash.get(digest) or self._from_directory(digest)
        if principal is None:
            raise Unauthenticated()
        return principal

    def known(self, principal_id: str) -> Principal | None:
        """The principal `principal_id` as the keys know it (a fixed entry first, else an
        active key of the directory): the console signs in only a principal known here."""
        fixed = next((p for p in self._by_hash.values() if p.id == principal_id), None)
        if fixed is not None or self._directory is None:
            return fixed
        return self._directory.active_principal(principal_id)

    def _from_directory(self, digest: str) -> Principal | None:
        if self._directory is None:
            return None
        now = self._monotonic()
        cached = self._cache.get(digest)
        if cached is None or now - cached[0] >= self._cache_s:
            if len(self._cache) >= CACHE_MAX:  # unknown keys (guesses) must not grow it
                self._cache.clear()
            cached = (now, self._directory.find(digest))
            self._cache[digest] = cached
        stored = cached[1]
        if stored is None or stored.state(self._now()) != "active":
            return None
        return stored.principal()

    def __len__(self) -> int:
        return len(self._by_hash)


def read_entries(path: Path) -> list[ApiKeyEntry]:
    """The entries of a keys file (LEDGER_API_KEYS_FILE): a JSON list."""
    return TypeAdapter(list[ApiKeyEntry]).validate_python(json.loads(path.read_text()))


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_key(kind: ActorKind) -> str:
    return f"lk_{kind.value}_{secrets.token_urlsafe(32)}"


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated()
    return token.strip()


class Allow:
    """A route's declaration of which principal kinds and scopes may call it."""

    def __init__(self, kinds: Iterable[ActorKind], scopes: Iterable[str]) -> None:
        self.kinds = frozenset(kinds)
        self.scopes = frozenset(scopes)

    def __call__(self, request: Request) -> Principal:
        principal = _authenticated(request)
        principal_kind_is(request, principal.kind.value)
        key = f"{principal.kind.value}:{principal.id}"
        request.app.state.rate_limiter.check(key, request.scope)
        if principal.kind not in self.kinds or not self.scopes <= principal.scopes:
            raise Forbidden()
        return principal


def _authenticated(request: Request) -> Principal:
    """A presented key that fails counts against the caller's address (guessing keys is
    rate limited); a request with no key at all was counted by the address middleware."""
    keys: ApiKeys = request.app.state.api_keys
    try:
        return keys.authenticate(bearer_token(request))
    except Unauthenticated:
        if "authorization" in request.headers:
            address = address_key(client_address(request.scope))
            request.app.state.address_limiter.check(address, request.scope)
        raise
