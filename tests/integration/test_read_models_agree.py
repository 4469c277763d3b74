"""For random billing histories, every read model built incrementally (batches as Kafka
delivers them: in order per account, with redeliveries), rebuilt from the store, and
rebuilt account by account through recompute, is the same row for row."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.bootstrap import Container
from commands import credits, dunning
from commands.base import Deps
from commands.models import GrantCredit, RunBilling
from ledger.envelope import EventEnvelope
from ledger.errors import DomainError
from projections.base import Projection
from projections.feed import catch_up, reset
from projections.recompute import recompute_stream
from projections.runtime import apply_batch
from tests.fakes.billing import CARD, subscribe, usd_account
from tests.fakes.builders import support_ctx, system_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway

Rows = dict[str, dict[UUID, Any]]


def random_history(
    data: st.DataObject, deps: Deps, gateway: FakeGateway, clock: FixedClock
) -> list[UUID]:
    ids = [usd_account(deps) for _ in range(data.draw(st.integers(1, 3)))]
    for _ in range(data.draw(st.integers(1, 8))):
        account_id = data.draw(st.sampled_from(ids))
        action = data.draw(st.sampled_from(["subscribe", "credit", "time", "decline"]))
        try:
            if action == "subscribe":
                subscribe(deps, account_id, on_session=data.draw(st.booleans()))
            elif action == "credit":
                grant = GrantCredit(account_id=account_id, amount=700, currency="USD")
                credits.grant_credit(deps, grant, support_ctx("goodwill"))
            elif action == "decline":
                gateway.decline_next(
                    CARD, data.draw(st.sampled_from(["insufficient_funds", "expired_card"]))
                )
            else:
                clock.advance(days=data.draw(st.integers(1, 20)))
                dunning.run_billing(deps, RunBilling(account_ids=ids), system_ctx())
        except DomainError:
            pass  # refusals are part of a random history
    return ids


def snapshot(container: Container, ids: list[UUID]) -> Rows:
    with container.connection() as conn, conn.cursor() as cur:
        return {name: p.load(cur, ids) for name, p in container.projections.items()}


def incrementally(
    container: Container, envelopes: list[EventEnvelope], data: st.DataObject
) -> None:
    """Chunks in position order (per-account order, as a partition keeps it), each chunk
    sometimes delivered again later."""
    delivered: list[list[EventEnvelope]] = []
    rest = list(envelopes)
    while rest:
        size = data.draw(st.integers(1, 7))
        chunk, rest = rest[:size], rest[size:]
        delivered.append(chunk)
        if len(delivered) > 1 and data.draw(st.booleans()):
            delivered.append(data.draw(st.sampled_from(delivered[:-1])))
    with container.connection() as conn:
        for chunk in delivered:
            for projection in container.projections.values():
                apply_batch(conn, projection, chunk, container.reader)


def rebuilt(container: Container, projection: Projection[Any]) -> None:
    with container.connection() as conn:
        reset(conn, projection)
    catch_up(container.connection, projection, container.reader)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_incremental_rebuild_and_recompute_agree(
    container: Container, deps: Deps, gateway: FakeGateway, clock: FixedClock, data: st.DataObject
) -> None:
    ids = random_history(data, deps, gateway, clock)
    streams = {i: container.reader.stream_between(i, 0, None) for i in ids}
    envelopes = sorted((e for s in streams.values() for e in s), key=lambda e: e.position)
    incrementally(container, envelopes, data)
    built = snapshot(container, ids)
    for projection in container.projections.values():
        rebuilt(container, projection)
    assert snapshot(container, ids) == built
    with container.connection() as conn:
        for account_id, stream in streams.items():
            recompute_stream(conn, list(container.projections.values()), account_id, stream)
    assert snapshot(container, ids) == built
    assert all(built[name] for name in ("accounts", "health", "account_detail"))
