"""A read model's table, by its columns: upsert the rows a batch changed, delete a stream's
rows. One statement each, shared by the projections that keep rows keyed by account."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from psycopg import Cursor


@dataclass(frozen=True)
class RowTable:
    table: str
    columns: tuple[str, ...]  # the key columns first
    keys: int = 1  # how many of the first columns form the primary key

    @classmethod
    def of(cls, table: str, columns: str, keys: int = 1) -> RowTable:
        return cls(table, tuple(c.strip() for c in columns.split(",")), keys)

    @property
    def listed(self) -> str:
        return ", ".join(self.columns)

    def upsert(self, cur: Cursor[Any], rows: Sequence[Sequence[Any]]) -> None:
        """Inserts each row (values in column order), or updates every non-key column."""
        if not rows:
            return
        placeholders = ", ".join(["%s"] * len(self.columns))
        updates = ", ".join(f"{n} = EXCLUDED.{n}" for n in self.columns[self.keys :])
        cur.executemany(
            f"INSERT INTO {self.table} ({self.listed}) VALUES ({placeholders})"
            f" ON CONFLICT ({', '.join(self.columns[: self.keys])}) DO UPDATE SET {updates}",
            rows,
        )

    def insert(self, cur: Cursor[Any], rows: Sequence[Sequence[Any]]) -> None:
        """Inserts each row (values in column order)."""
        if rows:
            placeholders = ", ".join(["%s"] * len(self.columns))
            cur.executemany(
                f"INSERT INTO {self.table} ({self.listed}) VALUES ({placeholders})", rows
            )

    def delete_accounts(self, cur: Cursor[Any], account_ids: Sequence[UUID]) -> None:
        if account_ids:
            cur.execute(
                f"DELETE FROM {self.table} WHERE account_id = ANY(%s)", (list(account_ids),)
            )


# Per table, its rows (values in column order): what a projection's states amount to.
TableRows = list[tuple[RowTable, list[tuple[Any, ...]]]]
