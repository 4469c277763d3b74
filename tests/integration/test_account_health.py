"""Account health on real PostgreSQL: accounts brought into each state by real commands (fake
gateway), projected from the event store, read through the queries and over HTTP."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient

from adapters.bootstrap import Container
from adapters.http.app import create_app
from adapters.http.auth import SCOPES, ApiKeyEntry, ApiKeys, hash_key
from commands import accounts, bad_debt, dunning
from commands.base import Deps
from commands.models import CloseAccount, PayBadDebt, RunBilling
from commands.ports import ProcessorUnavailable
from ledger.meta import ActorKind
from projections.base import fold_all
from projections.feed import catch_up, reset
from projections.health import HealthFacts, HealthProjection
from queries.health import AccountHealth, HealthPolicy, accounts_in_state, fleet_health, get_health
from queries.health import HealthState as State
from tests.fakes.billing import subscribe, usd_account
from tests.fakes.builders import customer_ctx, system_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway

SERVICE, SUPPORT = "svc-key-0123456789", "sup-key-0123456789"
PRICE = 2000


def project(container: Container) -> None:
    catch_up(container.connection, HealthProjection(), container.reader)


def health(container: Container, account_id: UUID) -> AccountHealth:
    with container.connection() as conn:
        found = get_health(conn, account_id, container.deps.clock.now())
    assert found is not None
    return found


def run_billing(deps: Deps, *account_ids: UUID) -> None:
    report = dunning.run_billing(deps, RunBilling(account_ids=list(account_ids)), system_ctx())
    assert report.errors == {}


def table(container: Container) -> dict[UUID, HealthFacts]:
    with container.connection() as conn, conn.cursor() as cur:
        cur.execute("SELECT account_id FROM account_health")
        return HealthProjection().load(cur, [r[0] for r in cur.fetchall()])


@pytest.fixture
def fleet(
    container: Container, deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> dict[State, UUID]:
    """One account in each state (each with its own card, so declines stay its own)."""
    bad, lifting = usd_account(deps, "pm_bad"), usd_account(deps, "pm_lift")
    for account_id in (bad, lifting):
        subscribe(deps, account_id)
    project(container)  # part incremental, part later: the rebuild test compares both
    clock.advance(days=31)
    for ref in ("pm_bad", "pm_lift"):
        gateway.always_decline(ref, "insufficient_funds")
    for _ in range(12):
        run_billing(deps, bad, lifting)
        clock.advance(days=1)
    gateway._always.clear()

    stuck = usd_account(deps, "pm_stuck")
    gateway.go_down_next("pm_stuck")
    with pytest.raises(ProcessorUnavailable):
        subscribe(deps, stuck, on_session=False)
    clock.advance(minutes=20)

    gateway.go_down_next("pm_lift")
    with pytest.raises(ProcessorUnavailable):
        bad_debt.pay_bad_debt(deps, PayBadDebt(account_id=lifting), customer_ctx(uuid4()))
    healthy = usd_account(deps, "pm_ok")
    subscribe(deps, healthy)
    past_due = usd_account(deps, "pm_soft")
    gateway.decline_next("pm_soft", "insufficient_funds")
    subscribe(deps, past_due, on_session=False)
    closed = usd_account(deps, card=None)
    accounts.close_account(deps, CloseAccount(account_id=closed), customer_ctx())
    project(container)
    return {
        State.HEALTHY: healthy,
        State.PAST_DUE: past_due,
        State.BAD_DEBT: bad,
        State.LIFTING: lifting,
        State.STUCK: stuck,
        State.CLOSED: closed,
    }


def test_each_account_shows_its_state(container: Container, fleet: dict[State, UUID]) -> None:
    assert {s: health(container, a).state for s, a in fleet.items()} == {s: s for s in fleet}

    healthy = health(container, fleet[State.HEALTHY])
    assert (healthy.outstanding, healthy.uncollectible, healthy.failed_attempts) == (0, 0, 0)
    assert healthy.reasons == ()
    assert healthy.last_successful_payment_at == container.deps.clock.now()
    assert healthy.collection_path == "charge_automatically"

    past_due = health(container, fleet[State.PAST_DUE])
    assert (past_due.outstanding, past_due.failed_attempts) == (PRICE, 1)
    assert "failed_attempts" in past_due.reasons
    assert (past_due.days_past_due, past_due.last_successful_payment_at) == (0, None)

    bad = health(container, fleet[State.BAD_DEBT])
    assert (bad.uncollectible, bad.outstanding, bad.suspended) == (PRICE, 0, True)
    assert bad.failed_attempts == 5  # the renewal's first charge and its four retries

    lifting = health(container, fleet[State.LIFTING])
    assert (lifting.uncollectible, lifting.suspended) == (PRICE, True)
    assert lifting.attempt_in_flight_since == container.deps.clock.now()

    stuck = health(container, fleet[State.STUCK])
    assert stuck.reasons[0] == "attempt_in_flight"
    assert stuck.outstanding == PRICE

    closed = health(container, fleet[State.CLOSED])
    assert closed.closed
    with container.connection() as conn:
        assert get_health(conn, uuid4(), container.deps.clock.now()) is None


def test_the_fleet_counts_states_and_sums_bad_debt(
    container: Container, fleet: dict[State, UUID]
) -> None:
    with container.connection() as conn:
        found = fleet_health(conn, container.deps.clock.now())
    assert found.accounts == 6
    assert found.by_state == {s: (0 if s is State.AT_RISK else 1) for s in State}
    assert found.bad_debt_by_currency == {"USD": 2 * PRICE}
    assert found.bad_debt_accounts_by_currency == {"USD": 2}  # bad debt and lifting


def test_each_state_lists_exactly_its_accounts_in_keyset_pages(
    container: Container, fleet: dict[State, UUID]
) -> None:
    now = container.deps.clock.now()
    with container.connection() as conn:
        for state in State:
            listed = accounts_in_state(conn, state, now)
            assert [i.health.account_id for i in listed.items] == (
                [fleet[state]] if state in fleet else []
            ), state
            assert all(i.health.state is state for i in listed.items)
            assert listed.next_after is None
        after_it = accounts_in_state(conn, State.STUCK, now, after=fleet[State.STUCK])
        assert after_it.items == []  # the page after the only stuck account


def test_time_makes_a_lifting_payment_stuck_and_an_unpaid_invoice_overdue(
    container: Container, fleet: dict[State, UUID], clock: FixedClock
) -> None:
    clock.advance(minutes=16)
    assert health(container, fleet[State.LIFTING]).state is State.STUCK
    later = clock.now() + timedelta(days=9)
    with container.connection() as conn:
        past_due = get_health(conn, fleet[State.PAST_DUE], later)
        lenient = get_health(conn, fleet[State.PAST_DUE], later, HealthPolicy(grace=timedelta(3)))
    assert past_due is not None
    assert lenient is not None
    assert "dunning_overdue" in past_due.reasons
    assert past_due.state is State.STUCK
    assert (lenient.state, lenient.days_past_due) == (State.PAST_DUE, 9)


def test_a_projection_behind_its_stream_is_stuck(
    container: Container, deps: Deps, fleet: dict[State, UUID]
) -> None:
    healthy = fleet[State.HEALTHY]
    subscribe(deps, healthy)  # recorded, not yet projected
    assert health(container, healthy).reasons == ("projection_behind",)
    assert health(container, healthy).state is State.STUCK
    project(container)
    assert health(container, healthy).state is State.HEALTHY


def test_a_rebuild_from_the_store_equals_the_incremental_build(
    container: Container, fleet: dict[State, UUID]
) -> None:
    incremental = table(container)
    assert len(incremental) == 6
    with container.connection() as conn:
        reset(conn, HealthProjection())
    assert table(container) == {}
    project(container)
    assert table(container) == incremental
    folded = fold_all(HealthProjection(), container.reader.read_after(0, 100_000))
    assert {a: s for a, s in folded.items() if s} == incremental


def test_delete_removes_only_those_streams(container: Container, fleet: dict[State, UUID]) -> None:
    with container.connection() as conn, conn.transaction(), conn.cursor() as cur:
        HealthProjection().delete(cur, [fleet[State.CLOSED]])
    assert set(table(container)) == set(fleet.values()) - {fleet[State.CLOSED]}


def test_health_over_http(container: Container, fleet: dict[State, UUID]) -> None:
    def entry(key: str, kind: ActorKind) -> ApiKeyEntry:
        return ApiKeyEntry(
            sha256=hash_key(key), id=f"{kind.value}-1", kind=kind, scopes=frozenset(SCOPES)
        )

    keys = ApiKeys([entry(SERVICE, ActorKind.SERVICE), entry(SUPPORT, ActorKind.SUPPORT)])
    bad = fleet[State.BAD_DEBT]
    with TestClient(create_app(container, keys)) as client:
        for prefix, key in (("/internal", SERVICE), ("/support", SUPPORT)):
            auth = {"Authorization": f"Bearer {key}"}
            answer = client.get(f"{prefix}/accounts/{bad}/health", headers=auth)
            assert answer.status_code == 200
            assert (answer.json()["state"], answer.json()["uncollectible"]) == ("bad_debt", PRICE)
            missing = client.get(f"{prefix}/accounts/{uuid4()}/health", headers=auth)
            assert missing.status_code == 404
        support = {"Authorization": f"Bearer {SUPPORT}"}
        assert client.get(f"/internal/accounts/{bad}/health", headers=support).status_code == 403
        fleet_view = client.get("/support/health", headers=support).json()
        assert fleet_view["by_state"]["lifting"] == 1
        service = {"Authorization": f"Bearer {SERVICE}"}
        assert client.get("/internal/health/fleet", headers=service).json() == fleet_view
