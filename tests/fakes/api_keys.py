"""API keys for HTTP tests: `<who>-key` for a customer of one account, a service and
support, each with every scope."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from adapters.http.auth import SCOPES, ApiKeyEntry, ApiKeys, hash_key
from ledger.meta import ActorKind


def key_entry(name: str, kind: ActorKind, **extra: Any) -> ApiKeyEntry:
    return ApiKeyEntry(sha256=hash_key(name), id=name, kind=kind, scopes=frozenset(SCOPES), **extra)


def three_principals(customer_account: UUID) -> ApiKeys:
    """customer-key (reaching `customer_account` only), service-key and support-key."""
    return ApiKeys(
        [
            key_entry("customer-key", ActorKind.CUSTOMER, account_id=customer_account),
            key_entry("service-key", ActorKind.SERVICE),
            key_entry("support-key", ActorKind.SUPPORT),
        ]
    )
