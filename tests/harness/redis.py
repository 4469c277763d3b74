"""A private Redis server (Debian's redis-server) on a free loopback port, with no persistence."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import redis

from tests.harness.ports import LOOPBACK, free_port
from tests.harness.process import ServiceStartError, spawn, start_failure, stop, wait_until

START_TIMEOUT_S = 30


@dataclass(frozen=True)
class RedisServer:
    host: str
    port: int
    started_in_s: float

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"


def redis_server_binary() -> str:
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServiceStartError("redis-server is not on PATH: run scripts/setup-services")
    return binary


def _answers_ping(port: int) -> bool:
    client = redis.Redis(host=LOOPBACK, port=port, socket_connect_timeout=0.5, socket_timeout=0.5)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()


def _argv(port: int, work_dir: Path) -> list[str]:
    return [
        redis_server_binary(),
        *("--port", str(port), "--bind", LOOPBACK),
        *("--save", "", "--appendonly", "no"),
        *("--dir", str(work_dir), "--daemonize", "no"),
    ]


@contextmanager
def running_redis(work_dir: Path) -> Iterator[RedisServer]:
    """Start a private redis-server on a free 127.0.0.1 port; stop it on exit."""
    began = time.monotonic()
    work_dir = work_dir.resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    log = work_dir / "redis.log"
    port = free_port()
    proc = spawn(_argv(port, work_dir), log, cwd=work_dir)
    try:
        failure = wait_until(
            lambda: _answers_ping(port),
            timeout_s=START_TIMEOUT_S,
            alive=lambda: proc.poll() is None,
        )
        if failure is not None:
            raise start_failure("Redis", failure, log)
        yield replace(RedisServer(LOOPBACK, port, 0.0), started_in_s=time.monotonic() - began)
    finally:
        stop(proc)
