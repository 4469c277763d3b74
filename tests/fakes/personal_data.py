"""The PersonalData port over an in-memory application. An in-memory application seals
every event it writes, so there is never anything in clear to seal: `seal_stored` checks
that. `shred` destroys the key; the POPO snapshots are left alone (the unit tests that use
this fake never reach the snapshot interval; the PostgreSQL adapter deletes snapshots and
tests/integration/test_forget_account.py checks it)."""

from __future__ import annotations

from uuid import UUID

from commands.application import LedgerApplication
from commands.personal import PersonalDataMapper
from tests.fakes.data_keys import InMemoryDataKeys


class InMemoryPersonalData:
    def __init__(self, app: LedgerApplication, keys: InMemoryDataKeys) -> None:
        self.app = app
        self.keys = keys
        self.shredded: list[UUID] = []

    def seal_stored(self, account_id: UUID) -> int:
        mapper = self.app.mapper
        assert isinstance(mapper, PersonalDataMapper)
        stored = self.app.recorder.select_events(account_id)
        if any(mapper.resealed(s) is not None for s in stored):
            raise AssertionError("an in-memory application stored personal data in clear")
        return 0

    def shred(self, account_id: UUID) -> None:
        self.keys.destroy(account_id)
        self.shredded.append(account_id)
