"""API keys for the embedded default: generated once into the data directory (mode 0600),
so a newcomer can call the API at once, with every scope (development only). Never used
when a keys file is configured; keys made by `ledger keys new` work beside them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from uuid import UUID

from adapters.http.auth import SCOPES, ApiKeyEntry, hash_key, new_key
from ledger.meta import ActorKind

DEV_KEYS_FILE = "dev-api-keys.json"
SUPPORT_PRINCIPAL = "dev-support-agent"


def load_or_create(
    data_dir: Path, customer_account: UUID
) -> tuple[list[ApiKeyEntry], dict[str, str]]:
    path = data_dir / DEV_KEYS_FILE
    if not path.exists():
        _write(path, _generate(customer_account))
    plain: dict[str, dict[str, object]] = json.loads(path.read_text())
    entries = [
        ApiKeyEntry(sha256=hash_key(str(v["key"])), **{k: x for k, x in v.items() if k != "key"})
        for v in plain.values()
    ]
    return entries, {name: str(v["key"]) for name, v in plain.items()}


def _generate(customer_account: UUID) -> dict[str, dict[str, object]]:
    scopes = list(SCOPES)
    return {
        "service": {
            "key": new_key(ActorKind.SERVICE),
            "id": "dev-service",
            "kind": "service",
            "scopes": scopes,
        },
        "support": {
            "key": new_key(ActorKind.SUPPORT),
            "id": SUPPORT_PRINCIPAL,
            "kind": "support",
            "scopes": scopes,
        },
        "customer": {
            "key": new_key(ActorKind.CUSTOMER),
            "id": "dev-customer",
            "kind": "customer",
            "scopes": scopes,
            "account_id": str(customer_account),
        },
    }


def _write(path: Path, content: dict[str, dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(content, f, indent=2)
