"""Wake-ups when the event store commits, instead of polling it every few milliseconds.

eventsourcing's PostgreSQL recorder sends `NOTIFY <channel>` in every transaction that
appends events; PostgreSQL delivers it when that transaction commits. One connection in a
daemon thread LISTENs and sets an event that followers of the store (the relay, the embedded
store feed) wait on between reads. A wake-up only shortens a wait: a follower that is not
woken (the LISTEN connection lost, a notification coalesced) still reads again after its
longest wait, so no event depends on a notification to be read.

A follower arms the wake-up *before* it reads the store: a commit that its read did not see
has then woken it, and the wait that follows returns at once.
"""

from __future__ import annotations

import threading

import psycopg
import structlog
from psycopg import sql

log = structlog.get_logger("wakeups")
LISTEN_POLL_S = 0.1  # how often the listening thread checks that it should stop


class StoreWakeups:
    def __init__(self, conninfo: str, channel: str, retry_s: float = 1.0) -> None:
        self._conninfo, self._channel, self._retry_s = conninfo, channel, retry_s
        self._committed = threading.Event()
        self._listening = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._listen, name="store-wakeups", daemon=True)

    def start(self, ready_timeout_s: float = 5.0) -> StoreWakeups:
        """Starts listening; returns once LISTEN is in place (or after the timeout: until it
        is, followers wait their longest wait)."""
        self._thread.start()
        self._listening.wait(ready_timeout_s)
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=LISTEN_POLL_S * 4)

    @property
    def listening(self) -> bool:
        return self._listening.is_set()

    def arm(self) -> None:
        """Forget earlier commits: call before reading the store."""
        self._committed.clear()

    def wake(self) -> None:
        """Ends every wait now (a follower asked to stop need not wait out its timeout)."""
        self._committed.set()

    def wait(self, timeout_s: float) -> bool:
        """Until a commit since `arm` (True) or the timeout (False)."""
        return self._committed.wait(timeout_s)

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen_once()
            except psycopg.Error as error:
                log.warning("store_wakeups.connection_lost", error=str(error).strip())
            self._listening.clear()
            self._committed.set()  # commits may have been missed: let followers read
            self._stop.wait(self._retry_s)

    def _listen_once(self) -> None:
        with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
            self._listening.set()
            self._committed.set()  # commits before LISTEN: let followers read once
            while not self._stop.is_set():
                for _ in conn.notifies(timeout=LISTEN_POLL_S, stop_after=1):
                    self._committed.set()
