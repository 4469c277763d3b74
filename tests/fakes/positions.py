"""commands.ports.EventPositions over an in-memory (POPO) store."""

from __future__ import annotations

from uuid import UUID

from commands.application import LedgerApplication


class StorePositions:
    """Reads the store's notifications, as the PostgreSQL adapter reads `ledger_events`."""

    def __init__(self, app: LedgerApplication) -> None:
        self._app = app

    def position_of(self, account_id: UUID, version: int) -> int | None:
        head = self._app.recorder.max_notification_id() or 0
        for notification in self._app.recorder.select_notifications(start=1, limit=head):
            if (notification.originator_id, notification.originator_version) == (
                account_id,
                version,
            ):
                return notification.id
        return None
