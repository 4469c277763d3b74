"""One active scheduler across processes: a PostgreSQL session advisory lock, held on a
connection of its own for as long as the scheduler runs. A standby polls for it; a
scheduler that dies (even SIGKILL) ends its session and so frees the lock."""

from __future__ import annotations

import threading

import psycopg
import structlog
from psycopg.conninfo import make_conninfo

log = structlog.get_logger("scheduler")
LOCK_KEY = 0x5C4ED1  # advisory lock id reserved for the scheduler


# The lock's session must notice a silently dead connection before PostgreSQL hands the lock
# to a standby: TCP keepalives, and a bound on unacknowledged writes (held()'s SELECT 1), so
# held() fails within about 30 s instead of blocking while this process's jobs still run.
LOCK_SESSION = {
    "connect_timeout": 10,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,  # ms
}


class Leadership:
    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None

    def acquire(self, stop: threading.Event, poll_s: float) -> bool:
        """Waits until this process holds the lock (True) or `stop` is set (False)."""
        announced = False
        while not stop.is_set():
            if self._try_lock():
                log.info("scheduler.active")
                return True
            if not announced:
                log.info("scheduler.standby", reason="another scheduler holds the lock")
                announced = True
            stop.wait(poll_s)
        return False

    def held(self) -> bool:
        """Whether the lock's session is still alive (a lost connection lost the lock)."""
        if self._conn is None:
            return False
        try:
            self._conn.execute("SELECT 1")
        except psycopg.Error:
            log.warning("scheduler.lock_lost")
            self.release()
            return False
        return True

    def release(self) -> None:
        if self._conn is not None:
            self._conn.close()  # ending the session frees its advisory locks
            self._conn = None

    def _try_lock(self) -> bool:
        try:
            if self._conn is None:
                self._conn = psycopg.connect(
                    make_conninfo(self._conninfo, **LOCK_SESSION), autocommit=True
                )
            row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
        except psycopg.Error as error:
            log.warning("scheduler.lock_unavailable", error=str(error))
            self.release()
            return False
        return bool(row and row[0])
