"""In-memory DataKeys: the PostgreSQL adapter's rules (a key per account, created on first
write, a destroyed key is never recreated) without the table."""

from __future__ import annotations

import secrets
from collections.abc import Collection
from uuid import UUID


class InMemoryDataKeys:
    def __init__(self) -> None:
        self.keys: dict[UUID, bytes | None] = {}  # None: destroyed

    def key_for_writing(self, account_id: UUID) -> bytes | None:
        if account_id not in self.keys:
            self.keys[account_id] = secrets.token_bytes(32)
        return self.keys[account_id]

    def key_for_reading(self, account_id: UUID) -> bytes | None:
        return self.keys.get(account_id)

    def warm(self, account_ids: Collection[UUID], writing: bool) -> None:
        if writing:
            for account_id in account_ids:
                self.key_for_writing(account_id)

    def destroy(self, account_id: UUID) -> None:
        self.keys[account_id] = None
