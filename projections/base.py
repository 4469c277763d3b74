"""What every projection is: a pure fold over envelopes plus a writer of its rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Protocol, TypeVar
from uuid import UUID

from psycopg import Cursor

from ledger.envelope import EventEnvelope
from projections.rows import TableRows

State = TypeVar("State")


class Projection(Protocol[State]):
    name: str
    tables: Sequence[str]
    # A decision for every event type of the account stream (tests/unit/test_fold_decisions.py):
    # the fold changes its state by the types in `applies` and deliberately leaves it as it
    # is for those in `ignores` (but for the stream version it has reached), as it does for
    # a type newer than this code.
    applies: frozenset[str]
    ignores: frozenset[str]

    def load(
        self, cur: Cursor[tuple[object, ...]], stream_ids: Sequence[UUID]
    ) -> dict[UUID, State]:
        """Current rows of these streams, as fold states."""
        ...

    def fold(self, state: State | None, envelope: EventEnvelope) -> State | None:
        """The state after one more event. Pure; unknown event types leave state as is."""
        ...

    def save(self, cur: Cursor[tuple[object, ...]], states: Mapping[UUID, State | None]) -> None:
        """Write (or delete, where the state is None) these streams' rows."""
        ...

    def rows(self, states: Mapping[UUID, State | None]) -> TableRows:
        """Every row of these streams' states, per table, as `save` writes them (a state of
        None: no rows): what a fresh rebuild copies into empty tables (projections/bulk.py)."""
        ...

    def delete(self, cur: Cursor[tuple[object, ...]], stream_ids: Sequence[UUID]) -> None:
        """Remove every row of these streams (a recompute then folds them again)."""
        ...


class EventSource(Protocol):
    """Where envelopes come from when a projection reads the event store directly."""

    def read_after(self, position: int, limit: int) -> list[EventEnvelope]: ...

    def stream_between(
        self, stream_id: UUID, after_version: int, before_version: int | None
    ) -> list[EventEnvelope]: ...

    def head(self) -> int: ...

    def identity_after(self, position: int) -> EventEnvelope | None:
        """The next event after `position` named without decoding it (stream, version,
        position, type; no data): what is parked when the event itself cannot be read."""
        ...


class ProjectionGap(Exception):
    """An event arrived whose predecessors in its stream were never applied."""


def fold_all(
    projection: Projection[State], envelopes: Iterable[EventEnvelope]
) -> dict[UUID, State | None]:
    """A whole fold in memory: the reference a rebuild or a check compares against."""
    states: dict[UUID, State | None] = {}
    for env in sorted(envelopes, key=lambda e: e.position):
        states[env.account_id] = projection.fold(states.get(env.account_id), env)
    return states
