"""One event a projection cannot apply parks its stream; every other account keeps flowing,
the parked one is listed and `stuck` in health, and a retry after the fix applies it and
everything behind it (the read model then equals a rebuild). From the store feed, with
rebuilds, and for the embedded feed thread (it restarts, and readiness says so)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any
from uuid import UUID

import pytest
from fastapi.testclient import TestClient
from structlog.testing import capture_logs

from adapters.bootstrap import Container
from adapters.cli.runtime import store_feed
from adapters.http.app import create_app
from adapters.http.auth import ApiKeys
from adapters.postgres.store_reader import StoreReader
from commands import accounts
from commands.base import load_account, meta_of
from commands.models import UpdateProfile
from ledger.envelope import EventEnvelope
from projections import feed
from projections.accounts import AccountsProjection
from projections.base import fold_all
from projections.feed import catch_up
from projections.health import HealthProjection
from projections.recompute import recompute_stream
from projections.runtime import apply_batch, retry_parked
from queries.health import HealthState, get_health
from queries.projections import poisoned_events
from tests.fakes.builders import open_cmd, service_ctx
from tests.integration.test_projection_feed import table_rows
from tests.integration.test_rebuild import rebuild_now

NUL_NAME = "Alice\x00Acme"


def open_accounts(container: Container, count: int) -> list[UUID]:
    return [
        accounts.open_account(container.deps, open_cmd(f"Customer {i}"), service_ctx()).account_id
        for i in range(count)
    ]


def inject_profile(container: Container, account_id: UUID, name: str) -> int:
    """A ProfileUpdated written straight through the aggregate's event method and the store:
    past the HTTP edge and the command models, as an old or buggy writer could have."""
    account = load_account(container.deps.app, account_id)
    p = account.profile
    meta = meta_of(container.deps, service_ctx())
    account._profile_updated(
        meta=meta, name=name, email=p.email, country=p.country, currency=p.currency, tax_id=None
    )
    container.deps.app.save(account)
    return int(account.version)


def rename(container: Container, account_id: UUID, email: str) -> None:
    cmd = UpdateProfile(account_id=account_id, email=email)
    accounts.update_profile(container.deps, cmd, service_ctx())


def feed_all(container: Container) -> None:
    for projection in container.projections.values():
        catch_up(container.connection, projection, container.reader, batch_size=500)


def expected_accounts(container: Container) -> dict[UUID, Any]:
    return fold_all(AccountsProjection(), container.reader.read_after(0, 100_000))


def nul_free_fold(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fix: the accounts fold drops NUL characters from names."""
    fold = AccountsProjection.fold

    def fixed(self: AccountsProjection, state: Any, env: EventEnvelope) -> Any:
        if "name" in env.data:
            clean = {**env.data, "name": env.data["name"].replace("\x00", "")}
            env = EventEnvelope(**{**env.__dict__, "data": clean})
        return fold(self, state, env)

    monkeypatch.setattr(AccountsProjection, "fold", fixed)


def test_a_poisoned_event_parks_one_account_of_1000_and_a_retry_after_the_fix_applies_it(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = open_accounts(container, 1000)
    bad = ids[500]
    poisoned_version = inject_profile(container, bad, NUL_NAME)
    rename(container, bad, "behind@example.com")  # waits behind the poisoned event
    for account_id in ids[::97]:
        rename(container, account_id, f"{account_id.hex[:6]}@example.com")

    with capture_logs() as logs:
        feed_all(container)

    rows, expected = table_rows(container), expected_accounts(container)
    assert len(rows) == 1000
    assert {a: r for a, r in rows.items() if a != bad} == {
        a: r for a, r in expected.items() if a != bad
    }
    assert (rows[bad].version, rows[bad].name) == (poisoned_version - 1, "Customer 500")
    with container.connection() as conn:
        [parked] = poisoned_events(conn)
        stuck = get_health(conn, bad, container.deps.clock.now())
        fine = get_health(conn, ids[0], container.deps.clock.now())
    assert (parked.projection, parked.stream_id, parked.version) == (
        "accounts",
        bad,
        poisoned_version,
    )
    assert parked.event_type == "AccountProfileUpdated"
    assert "NUL" in parked.error
    assert parked.attempts == 1
    assert parked.correlation_id is not None
    assert stuck
    assert stuck.state == HealthState.STUCK
    assert "projection_poisoned" in stuck.reasons
    assert fine
    assert "projection_poisoned" not in fine.reasons
    [logged] = [e for e in logs if e["event"] == "projection.event_poisoned"]
    assert logged["log_level"] == "error"
    assert (logged["projection"], logged["stream_id"], logged["version"]) == (
        "accounts",
        str(bad),
        poisoned_version,
    )
    assert logged["position"] == parked.position
    assert logged["correlation_id"] == str(parked.correlation_id)

    rename(container, ids[1], "still-flowing@example.com")  # the feed goes on, parked or not
    feed_all(container)
    assert table_rows(container)[ids[1]].email == "still-flowing@example.com"

    with container.connection() as conn:
        [again] = retry_parked(conn, list(container.projections.values()), container.reader)
        [still] = poisoned_events(conn)
    assert not again.resolved
    assert again.stopped_at == poisoned_version
    assert still.attempts == 2
    assert still.first_seen_at == parked.first_seen_at

    nul_free_fold(monkeypatch)
    with container.connection() as conn:
        [retried] = retry_parked(conn, list(container.projections.values()), container.reader)
        assert poisoned_events(conn) == []
        healthy = get_health(conn, bad, container.deps.clock.now())
    assert retried.resolved
    assert retried.applied == 2
    row = table_rows(container)[bad]
    assert (row.name, row.email, row.version) == ("AliceAcme", "behind@example.com", 3)
    assert healthy
    assert "projection_poisoned" not in healthy.reasons
    assert rebuild_now(container, "accounts").differences == []
    assert table_rows(container) == expected_accounts(container)


def raising_for(stream_id: UUID, cls: type[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in one projection's fold that only one stream's events hit."""
    fold = cls.fold

    def buggy(self: Any, state: Any, env: EventEnvelope) -> Any:
        if env.account_id == stream_id and env.stream_version >= 2:
            raise KeyError("a field this fold expects")
        return fold(self, state, env)

    monkeypatch.setattr(cls, "fold", buggy)


def test_a_fold_that_raises_parks_the_stream_in_that_projection_only_and_in_rebuilds(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = open_accounts(container, 30)
    bad = ids[7]
    for account_id in ids:
        rename(container, account_id, f"{account_id.hex[:6]}@example.com")
    with monkeypatch.context() as bug:
        raising_for(bad, HealthProjection, bug)
        feed_all(container)
        with container.connection() as conn:
            [parked] = poisoned_events(conn)
            health = get_health(conn, bad, container.deps.clock.now())
        assert (parked.projection, parked.stream_id, parked.version) == ("health", bad, 2)
        assert health
        assert health.state == HealthState.STUCK
        assert "projection_poisoned" in health.reasons
        assert table_rows(container)[bad].version == 2  # the accounts projection is not parked

        report = rebuild_now(container, "health")  # the rebuild parks it too, at the same event
        assert report.differences == []
        with container.connection() as conn:
            [after_rebuild] = poisoned_events(conn)
        assert (after_rebuild.version, after_rebuild.attempts) == (2, 2)

    report = rebuild_now(container, "health")  # the fix is deployed: a rebuild resolves it
    assert [d.account_id for d in report.differences] == [bad]
    with container.connection() as conn:
        assert poisoned_events(conn) == []
        assert retry_parked(conn, list(container.projections.values()), container.reader) == []
        health = get_health(conn, bad, container.deps.clock.now())
    assert health
    assert health.version == 2
    assert "projection_poisoned" not in health.reasons


def test_the_store_feed_thread_restarts_after_a_failure_and_readiness_says_so(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    failures = {"left": 3}
    real_catch_up = feed.catch_up_together

    def flaky(*args: Any, **kwargs: Any) -> int:
        if failures["left"] > 0:
            failures["left"] -= 1
            raise RuntimeError("the database went away")
        return real_catch_up(*args, **kwargs)

    monkeypatch.setattr(feed, "catch_up_together", flaky)
    [account_id] = open_accounts(container, 1)
    with (
        capture_logs() as logs,
        store_feed(container, backoff_s=0.3) as running,
        TestClient(create_app(container, ApiKeys([]), feed=running)) as client,
    ):
        down = wait_for(lambda: client.get("/readyz"), lambda r: r.status_code == 503)
        assert down.json()["store_feed"]["state"] == "restarting"
        assert "the database went away" in down.json()["store_feed"]["last_error"]
        up = wait_for(lambda: client.get("/readyz"), lambda r: r.status_code == 200)
        assert up.json()["store_feed"] == {**up.json()["store_feed"], "state": "running"}
        assert up.json()["store_feed"]["restarts"] == 3
        assert account_id in table_rows(container)
    failed = [e for e in logs if e["event"] == "store_feed.failed"]
    assert len(failed) == 3
    assert all(e["log_level"] == "error" for e in failed)
    assert running.health().state == "stopped"


def wait_for(get: Callable[[], Any], done: Callable[[Any], bool], timeout_s: float = 20) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = get()
        if done(value) or time.monotonic() > deadline:
            assert done(value), value
            return value
        time.sleep(0.02)


def store_unreadable(container: Container, account_id: UUID, like: UUID) -> int:
    """An event in the store that cannot be decoded any more (as an old event no upcaster
    can read): the topic of `like`'s latest event, a state that is not such an event."""
    with container.connection() as conn:
        row = conn.execute(
            "INSERT INTO ledger_events (originator_id, originator_version, topic, state)"
            " SELECT %s, 2, topic, %s FROM ledger_events WHERE originator_id = %s"
            " ORDER BY originator_version DESC LIMIT 1 RETURNING notification_id",
            (account_id, b'{"written_by": "an old version"}', like),
        ).fetchone()
        conn.commit()
    assert row is not None
    return int(row[0])


def upcaster_fix(
    container: Container, broken: UUID, like: UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fix: the reader reads the broken event (as `like`'s latest, for `broken`)."""
    template = container.reader.stream_between(like, 1, None)[-1]
    read = StoreReader._envelope

    def fixed(self: StoreReader, stored: Any, position: int) -> EventEnvelope:
        if (stored.originator_id, stored.originator_version) != (broken, 2):
            return read(self, stored, position)
        data = {**template.data, "name": "Fixed by an upcaster"}
        return EventEnvelope(
            **{**template.__dict__, "account_id": broken, "position": position, "data": data}
        )

    monkeypatch.setattr(StoreReader, "_envelope", fixed)


def test_an_event_the_store_cannot_decode_parks_its_stream_instead_of_stopping_the_feed(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = open_accounts(container, 40)
    broken, like = ids[3], ids[4]
    rename(container, like, "like@example.com")
    position = store_unreadable(container, broken, like)
    for account_id in ids[10:]:
        rename(container, account_id, f"{account_id.hex[:6]}@example.com")

    feed_all(container)  # a page holds the unreadable event: read again one by one

    rows = table_rows(container)
    assert all(rows[a].email.endswith(f"{a.hex[:6]}@example.com") for a in ids[10:])
    assert rows[broken].version == 1
    with container.connection() as conn:
        parked = poisoned_events(conn)
    assert {(p.projection, p.stream_id, p.version, p.position) for p in parked} == {
        (name, broken, 2, position) for name in container.projections
    }
    assert {p.event_type for p in parked} == {"AccountProfileUpdated"}
    with container.connection() as conn:
        again = retry_parked(conn, list(container.projections.values()), container.reader)
    assert [o.resolved for o in again] == [False] * len(container.projections)

    upcaster_fix(container, broken, like, monkeypatch)
    with container.connection() as conn:
        retried = retry_parked(conn, list(container.projections.values()), container.reader)
        assert poisoned_events(conn) == []
    assert [o.applied for o in retried] == [1] * len(container.projections)
    assert table_rows(container)[broken].name == "Fixed by an upcaster"
    for name in container.projections:
        assert rebuild_now(container, name).differences == [], name


def test_a_recompute_of_the_account_after_the_fix_ends_its_parking(
    container: Container, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = open_accounts(container, 3)
    bad = ids[1]
    inject_profile(container, bad, NUL_NAME)
    feed_all(container)
    with container.connection() as conn:
        assert [p.stream_id for p in poisoned_events(conn)] == [bad]
    nul_free_fold(monkeypatch)
    stream = container.reader.stream_between(bad, 0, None)
    with container.connection() as conn:
        recompute_stream(conn, list(container.projections.values()), bad, stream)
        assert poisoned_events(conn) == []
    assert table_rows(container)[bad].name == "AliceAcme"
    rename(container, bad, "after@example.com")  # no longer held back
    feed_all(container)
    assert table_rows(container)[bad].email == "after@example.com"


def test_a_stream_whose_missing_predecessor_cannot_be_read_is_parked_not_the_batch(
    container: Container,
) -> None:
    ids = open_accounts(container, 4)
    broken, like = ids[0], ids[1]
    rename(container, like, "like@example.com")
    store_unreadable(container, broken, like)  # version 2, undecodable
    template = container.reader.stream_between(like, 1, None)[-1]
    later = EventEnvelope(  # version 3 arrives (Kafka); version 2 must come from the store
        **{**template.__dict__, "account_id": broken, "stream_version": 3, "position": 10**6}
    )
    others = [e for a in ids[1:] for e in container.reader.stream_between(a, 0, None)]
    with container.connection() as conn:
        outcome = apply_batch(conn, AccountsProjection(), [*others, later], container.reader)
        [parked] = poisoned_events(conn)
    assert (outcome.applied, outcome.parked) == (len(others), 1)
    assert (parked.stream_id, parked.version) == (broken, 3)
    assert "meta" in parked.error
    assert set(table_rows(container)) == set(ids) - {broken}
