"""Reads the event store as envelopes: the projections' direct source and the relay's input."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from psycopg.rows import DictRow

from adapters.postgres.stored_envelopes import PlainEnvelopes
from commands.application import LedgerApplication
from ledger.envelope import EventEnvelope, event_id_for
from ledger.personal import PERSONAL_FIELDS


class StoreReader:
    def __init__(self, app: LedgerApplication) -> None:
        self._app = app
        self._envelopes = PlainEnvelopes(app.mapper)

    def read_after(self, position: int, limit: int) -> list[EventEnvelope]:
        notifications = self._app.recorder.select_notifications(
            start=position, limit=limit, inclusive_of_start=False
        )
        self._warm_keys(notifications)
        return [self._envelope(n, n.id) for n in notifications]

    def _warm_keys(self, stored: Sequence[StoredEvent]) -> None:
        """The page's personal events' account keys, in one query rather than one each."""
        if self._app.personal is not None:
            accounts = {UUID(str(s.originator_id)) for s in stored if s.topic in PERSONAL_FIELDS}
            self._app.personal.warm(accounts)

    def head(self) -> int:
        return self._app.recorder.max_notification_id() or 0

    def position_of(self, account_id: UUID, version: int) -> int | None:
        """The global position of an account's event (commands.ports.EventPositions)."""
        datastore = self._app.recorder.datastore  # type: ignore[attr-defined]
        with datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT notification_id FROM ledger_events"
                " WHERE originator_id = %s AND originator_version = %s",
                (account_id, version),
            )
            row: DictRow | None = curs.fetchone()
        return None if row is None else int(row["notification_id"])

    def stream_between(
        self, stream_id: UUID, after_version: int, before_version: int | None
    ) -> list[EventEnvelope]:
        """A stream's events in (after, before), with their global positions."""
        datastore = self._app.recorder.datastore  # type: ignore[attr-defined]
        with datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT originator_id, originator_version, topic, state, notification_id"
                " FROM ledger_events WHERE originator_id = %s AND originator_version > %s"
                " AND (%s::bigint IS NULL OR originator_version < %s::bigint)"
                " ORDER BY originator_version",
                (stream_id, after_version, before_version, before_version),
            )
            rows: list[DictRow] = curs.fetchall()
        return [self._envelope(_stored(r), int(r["notification_id"])) for r in rows]

    def identity_after(self, position: int) -> EventEnvelope | None:
        """The next event after `position` named without decoding it (an upcaster that
        cannot read it, a state that no longer fits its class): what a projection parks."""
        datastore = self._app.recorder.datastore  # type: ignore[attr-defined]
        with datastore.transaction(commit=False) as curs:
            curs.execute(
                "SELECT originator_id, originator_version, topic, notification_id"
                " FROM ledger_events WHERE notification_id > %s ORDER BY notification_id LIMIT 1",
                (position,),
            )
            row: DictRow | None = curs.fetchone()
        if row is None:
            return None
        stream_id, version = row["originator_id"], int(row["originator_version"])
        return EventEnvelope(
            event_id=event_id_for(stream_id, version),
            event_type=str(row["topic"]).rsplit(":", 1)[-1].replace(".", ""),
            schema_version=0,
            account_id=stream_id,
            stream_version=version,
            position=int(row["notification_id"]),
            meta={},
            data={},
        )

    def decode_rows(self, rows: list[tuple[UUID, int, str, bytes, int]]) -> list[EventEnvelope]:
        """Rows of (originator_id, version, topic, state, notification_id) as envelopes."""
        return [self._envelope(StoredEvent(r[0], r[1], r[2], r[3]), r[4]) for r in rows]

    def _envelope(self, stored: StoredEvent | Notification, position: int) -> EventEnvelope:
        return self._envelopes.envelope(stored, position)


def _stored(row: DictRow) -> StoredEvent:
    return StoredEvent(
        originator_id=row["originator_id"],
        originator_version=row["originator_version"],
        topic=row["topic"],
        state=bytes(row["state"]),
    )
