"""Accounts the PayPal token migration looks at: those that ever added a PayPal method
through the legacy vaulting path, read from the event store's PaymentMethodAdded events.

Only those events are read, in pages along the partial index of migration 0009 (its
predicate is this topic, written into the query as a literal so the planner can use it).
Whether a method still needs migrating is the job's call, from the account itself: a
method added legacy may have been migrated, removed or revoked since.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from psycopg import sql

from commands.application import LedgerApplication
from ledger.events import PaymentMethodAdded
from ledger.methods import MethodKind, VaultPath

METHOD_ADDED_TOPIC = get_topic(PaymentMethodAdded)  # the pinned stored topic, not its module
PAGE = 1000
_QUERY = sql.SQL(
    "SELECT originator_id, originator_version, topic, state, notification_id"
    " FROM ledger_events WHERE topic = {topic} AND notification_id > %s"
    " ORDER BY notification_id LIMIT %s"
).format(topic=sql.Literal(METHOD_ADDED_TOPIC))


class LegacyPayPalAccounts:
    def __init__(self, app: LedgerApplication, page: int = PAGE) -> None:
        self._app = app
        self._page = page

    def account_ids(self) -> Iterator[UUID]:
        """Each account once, in the order its first legacy PayPal method was added."""
        seen: set[UUID] = set()
        position = 0
        while rows := self._rows_after(position):
            position = int(rows[-1]["notification_id"])
            for row in rows:
                account_id = row["originator_id"]
                if account_id not in seen and self._legacy_paypal(row):
                    seen.add(account_id)
                    yield account_id

    def _rows_after(self, position: int) -> list[Any]:
        datastore = self._app.recorder.datastore  # type: ignore[attr-defined]
        with datastore.transaction(commit=False) as curs:
            curs.execute(_QUERY, (position, self._page))
            rows: list[Any] = curs.fetchall()
        return rows

    def _legacy_paypal(self, row: Any) -> bool:
        stored = StoredEvent(
            originator_id=row["originator_id"],
            originator_version=row["originator_version"],
            topic=row["topic"],
            state=bytes(row["state"]),
        )
        added = self._app.mapper.to_domain_event(stored)
        method = getattr(added, "method", None)
        return (
            method is not None
            and method.kind is MethodKind.PAYPAL
            and method.vault_path is VaultPath.LEGACY
        )
