"""Sessions in Redis (shared by every API process, expired by Redis), and an in-process
store for the embedded single-process default: payment sessions, and the support console's
browser sessions (each under its own key prefix)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis

from commands.checkout_ports import SessionStoreUnavailable

PREFIX = "ledger:payment-session:"


@contextmanager
def _reachable() -> Iterator[None]:
    try:
        yield
    except redis.RedisError as error:
        raise SessionStoreUnavailable(f"redis: {type(error).__name__}") from error


class RedisSessionStore:
    def __init__(self, client: redis.Redis, prefix: str = PREFIX) -> None:
        self._redis = client
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str, prefix: str = PREFIX) -> RedisSessionStore:
        client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        return cls(client, prefix)

    def put(self, session_id: str, value: dict[str, Any], ttl_s: int) -> None:
        with _reachable():
            self._redis.set(self._prefix + session_id, json.dumps(value), ex=ttl_s)

    def get(self, session_id: str) -> dict[str, Any] | None:
        with _reachable():
            raw = self._redis.get(self._prefix + session_id)
        if raw is None:
            return None
        value: dict[str, Any] = json.loads(raw)
        return value

    def replace(self, session_id: str, value: dict[str, Any]) -> None:
        with _reachable():
            self._redis.set(self._prefix + session_id, json.dumps(value), xx=True, keepttl=True)

    def delete(self, session_id: str) -> None:
        with _reachable():
            self._redis.delete(self._prefix + session_id)


class MemorySessionStore:
    """For one process (the embedded default); sessions die with it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[str, tuple[float, str]] = {}

    def put(self, session_id: str, value: dict[str, Any], ttl_s: int) -> None:
        with self._lock:
            self._items[session_id] = (time.monotonic() + ttl_s, json.dumps(value))

    def get(self, session_id: str) -> dict[str, Any] | None:
        with self._lock:
            item = self._items.get(session_id)
            if item is None or item[0] <= time.monotonic():
                self._items.pop(session_id, None)
                return None
            value: dict[str, Any] = json.loads(item[1])
            return value

    def replace(self, session_id: str, value: dict[str, Any]) -> None:
        with self._lock:
            item = self._items.get(session_id)
            if item is not None and item[0] > time.monotonic():
                self._items[session_id] = (item[0], json.dumps(value))

    def delete(self, session_id: str) -> None:
        with self._lock:
            self._items.pop(session_id, None)
