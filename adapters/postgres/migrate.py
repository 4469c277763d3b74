"""Schema migrations with yoyo (plain SQL files in migrations/, applied under a lock)."""

from __future__ import annotations

from pathlib import Path

from yoyo import get_backend, read_migrations

from adapters.postgres.database import Database

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def migrate(db: Database) -> list[str]:
    """Applies pending migrations; returns the ids applied (empty when up to date)."""
    backend = get_backend(db.yoyo_url())
    migrations = read_migrations(str(MIGRATIONS_DIR))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return [m.id for m in pending]


def pending(db: Database) -> list[str]:
    backend = get_backend(db.yoyo_url())
    return [m.id for m in backend.to_apply(read_migrations(str(MIGRATIONS_DIR)))]
