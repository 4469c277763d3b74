"""One active scheduler across processes: a PostgreSQL session advisory lock, held on a
connection of its own for as long as the scheduler runs. A standby polls for it; a
scheduler that dies (even SIGKILL) ends its session and so frees the lock."""

from __future__ import annotations

import threading

import psycopg
import structlog

log = structlog.get_logger("scheduler")
LOCK_KEY = 0x5C4ED1  # advisory lock id reserved for the scheduler


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
                self._conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=10)
            row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()
        except psycopg.Error as error:
            log.warning("scheduler.lock_unavailable", error=str(error))
            self.release()
            return False
        return bool(row and row[0])
