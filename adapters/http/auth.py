"""Principals and API keys.

Every caller presents `Authorization: Bearer <key>`. Keys are configured as SHA-256 hashes
(never in plain text) in a JSON file, each bound to a principal: its kind (customer,
service, support), its id, its scopes and, for customers, the one account it may reach.
Keys are long random strings, so a fast hash is enough (no password stretching needed).
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated
from uuid import UUID

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from adapters.http.security import address_key, client_address
from ledger.errors import DomainError
from ledger.meta import ActorKind

SCOPES = ("accounts:read", "accounts:write", "billing:write", "billing:run")


class Unauthenticated(DomainError):
    """A valid API key is required."""

    code = "unauthenticated"
    http_status = 401


class Forbidden(DomainError):
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


class ApiKeys:
    def __init__(self, entries: Iterable[ApiKeyEntry]) -> None:
        self._by_hash = {e.sha256: e.principal() for e in entries}

    @classmethod
    def from_file(cls, path: Path) -> ApiKeys:
        entries = TypeAdapter(list[ApiKeyEntry]).validate_python(json.loads(path.read_text()))
        return cls(entries)

    def authenticate(self, token: str) -> Principal:
        principal = self._by_hash.get(hash_key(token))
        if principal is None:
            raise Unauthenticated()
        return principal

    def __len__(self) -> int:
        return len(self._by_hash)


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
        request.app.state.rate_limiter.check(f"{principal.kind.value}:{principal.id}")
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
            request.app.state.address_limiter.check(address_key(client_address(request.scope)))
        raise
