"""Schema migrations with yoyo (plain SQL files in migrations/, applied under a lock)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from yoyo import get_backend, read_migrations

from adapters.postgres.database import Database

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


@contextmanager
def _backend(db: Database) -> Iterator[Any]:
    backend = get_backend(db.yoyo_url())
    try:
        yield backend
    finally:
        backend.connection.close()


def migrate(db: Database) -> list[str]:
    """Applies pending migrations; returns the ids applied (empty when up to date)."""
    with _backend(db) as backend, backend.lock():
        todo = backend.to_apply(read_migrations(str(MIGRATIONS_DIR)))
        backend.apply_migrations(todo)
        return [m.id for m in todo]


def pending(db: Database) -> list[str]:
    with _backend(db) as backend:
        return [m.id for m in backend.to_apply(read_migrations(str(MIGRATIONS_DIR)))]
