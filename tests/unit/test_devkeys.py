"""The embedded default's development keys: made once, printed, and accepted by the API's
key set with every scope (development only)."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

from adapters.cli import devkeys
from adapters.http.auth import SCOPES, ApiKeys
from ledger.meta import ActorKind


def test_development_keys_are_made_once_and_authenticate(tmp_path: Path) -> None:
    account = uuid4()
    entries, plain = devkeys.load_or_create(tmp_path, account)
    again, plain_again = devkeys.load_or_create(tmp_path, account)
    assert plain == plain_again
    assert entries == again
    keys = ApiKeys(entries)
    customer = keys.authenticate(plain["customer"])
    assert (customer.kind, customer.account_id) == (ActorKind.CUSTOMER, account)
    assert keys.authenticate(plain["service"]).scopes == frozenset(SCOPES)
    assert (tmp_path / devkeys.DEV_KEYS_FILE).stat().st_mode & 0o777 == 0o600
