"""Group commit: single-account commands that arrive together share one transaction.

Every append takes the event store's table lock (eventsourcing serialises writers), so
concurrent commands each saving alone queue for it one transaction at a time. Here the
first command to save while no commit is running commits at once, alone; the commands
that arrive while it commits wait, and the next of them to run commits all of them (up
to `max_accounts`) in one transaction. No command waits for a timer, and each caller is
answered only after the transaction holding its events has committed.

If the shared transaction fails (two commands on the same account, a concurrent write
from elsewhere), each command of it is saved again alone, so one conflict never fails the
others: the command that conflicts gets the IntegrityError a lone save would have given
it (and reloads and retries, commands/base.py).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.persistence import Recording

from ledger.account import Account


class Store(Protocol):
    """What group commit saves through: the application's `save`."""

    def save(self, *objs: Any) -> list[Recording[UUID]]: ...


class _Ticket:
    def __init__(self, account: Account) -> None:
        self.account = account
        self.events: list[Any] = list(account.collect_events())
        self.done = False
        self._recordings: list[Recording[UUID]] = []
        self._error: BaseException | None = None

    def succeeded(self, recordings: list[Recording[UUID]]) -> None:
        self._recordings, self.done = recordings, True

    def failed(self, error: BaseException) -> None:
        self._error, self.done = error, True

    def outcome(self) -> list[Recording[UUID]]:
        if self._error is not None:
            raise self._error
        return self._recordings


class GroupCommit:
    def __init__(self, app: Store, max_accounts: int = 200) -> None:
        self._app = app
        self._max = max_accounts
        self._turn = threading.Condition()
        self._waiting: list[_Ticket] = []
        self._committing = False

    @property
    def waiting(self) -> int:
        """Commands waiting for a transaction (not the one committing)."""
        with self._turn:
            return len(self._waiting)

    def save(self, account: Account) -> list[Recording[UUID]]:
        ticket = _Ticket(account)
        with self._turn:
            self._waiting.append(ticket)
            while not ticket.done:
                if self._committing:
                    self._turn.wait()
                    continue
                batch, self._waiting = self._waiting[: self._max], self._waiting[self._max :]
                self._committing = True
                self._turn.release()
                try:
                    self._commit(batch)
                finally:
                    self._turn.acquire()
                    self._committing = False
                    self._turn.notify_all()
        return ticket.outcome()

    def _commit(self, batch: list[_Ticket]) -> None:
        try:
            if len(batch) == 1:
                self._commit_alone(batch[0])
            else:
                self._commit_together(batch)
        except BaseException as error:  # never leave a caller waiting for an answer
            for ticket in batch:
                if not ticket.done:
                    ticket.failed(error)
            raise

    def _commit_together(self, batch: list[_Ticket]) -> None:
        events = [event for ticket in batch for event in ticket.events]
        try:
            # The accounts after their events: no events of their own left to collect, they
            # are there so that the application takes their snapshots.
            recordings = self._app.save(*events, *(t.account for t in batch))
        except Exception:
            for ticket in batch:
                self._commit_alone(ticket)
            return
        by_account: dict[UUID, list[Recording[UUID]]] = defaultdict(list)
        for recording in recordings:
            by_account[recording.domain_event.originator_id].append(recording)
        for ticket in batch:
            ticket.succeeded(by_account.get(ticket.account.id, []))

    def _commit_alone(self, ticket: _Ticket) -> None:
        try:
            ticket.succeeded(self._app.save(*ticket.events, ticket.account))
        except Exception as error:
            ticket.failed(error)
