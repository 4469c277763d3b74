"""ApiKeys over a key directory: what it read is trusted for `cache_s`, then read again, so
a revocation or an expiry is seen within that time; unknown keys do not grow the cache
without bound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.http import auth
from adapters.http.auth import ApiKeys, StoredKey, Unauthenticated, hash_key
from ledger.meta import ActorKind


class Directory:
    def __init__(self) -> None:
        self.keys: dict[str, StoredKey] = {}
        self.lookups = 0

    def find(self, sha256: str) -> StoredKey | None:
        self.lookups += 1
        return self.keys.get(sha256)

    def active_principal(self, principal_id: str) -> auth.Principal | None:
        return next((k.principal() for k in self.keys.values() if k.id == principal_id), None)

    def add(self, key: str, **extra: object) -> None:
        digest = hash_key(key)
        self.keys[digest] = StoredKey.model_validate(
            {
                "sha256": digest,
                "id": "svc",
                "kind": ActorKind.SERVICE,
                "key_id": "key_1",
                "created_at": datetime.now(UTC),
                **extra,
            }
        )


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_revocation_is_seen_once_the_cache_time_has_passed() -> None:
    directory, clock = Directory(), Clock()
    directory.add("k1")
    keys = ApiKeys([], directory, cache_s=5, monotonic=clock)
    assert keys.authenticate("k1").id == "svc"
    directory.keys[hash_key("k1")] = directory.keys[hash_key("k1")].model_copy(
        update={"revoked_at": datetime.now(UTC)}
    )
    clock.now = 4.9
    assert keys.authenticate("k1").id == "svc"  # still trusted: read 4.9 s ago
    assert directory.lookups == 1
    clock.now = 5.0
    with pytest.raises(Unauthenticated):
        keys.authenticate("k1")
    assert directory.lookups == 2


def test_an_expired_key_is_refused_without_a_new_lookup() -> None:
    directory, start = Directory(), datetime.now(UTC)
    directory.add("k2", expires_at=start + timedelta(hours=1))
    wall = [start]
    keys = ApiKeys([], directory, cache_s=3600, now=lambda: wall[0])
    assert keys.authenticate("k2").id == "svc"
    wall[0] = start + timedelta(hours=1)
    with pytest.raises(Unauthenticated):
        keys.authenticate("k2")
    assert directory.lookups == 1


def test_unknown_keys_do_not_grow_the_cache_without_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(auth, "CACHE_MAX", 10)
    keys = ApiKeys([], Directory(), cache_s=60)
    for n in range(25):
        with pytest.raises(Unauthenticated):
            keys.authenticate(f"guess-{n}")
    assert len(keys._cache) <= 10
