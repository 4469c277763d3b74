"""What the numbers were measured on."""

from __future__ import annotations

import os
import platform
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import psycopg

from tests.harness.kafka import DEFAULT_LIBS

LIBRARIES = ("eventsourcing", "psycopg", "psycopg-binary", "aiokafka", "faststream")
PG_SETTINGS = ("fsync", "synchronous_commit", "full_page_writes", "shared_buffers")


def _cpu_model() -> str:
    text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    found = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
    return found.group(1).strip() if found else platform.processor()


def _ram_gib() -> float:
    text = Path("/proc/meminfo").read_text(encoding="utf-8")
    found = re.search(r"^MemTotal:\s+(\d+) kB", text, re.MULTILINE)
    return round(int(found.group(1)) / 1024**2, 1) if found else float("nan")


def _kafka_version() -> str:
    jars = sorted(DEFAULT_LIBS.glob("kafka_2.13-*.jar"))
    return jars[0].stem.removeprefix("kafka_2.13-") if jars else "unknown"


def _java_version() -> str:
    result = subprocess.run(["java", "-version"], capture_output=True, text=True, check=False)
    lines = (result.stderr or result.stdout).splitlines()
    return lines[0] if lines else "unknown"


def _code() -> dict[str, Any]:
    """The commit measured, and how many files differed from it (others' work in progress)."""

    def git(*args: str) -> str:
        result = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
        return result.stdout.strip()

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "uncommitted_files": len(git("status", "--porcelain").splitlines()),
    }


def _postgres(dsn: str) -> dict[str, str]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        info = {"version": conn.execute("SHOW server_version").fetchone()[0]}  # type: ignore[index]
        for name in PG_SETTINGS:
            info[name] = conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
    return info


def describe_host() -> dict[str, Any]:
    """The machine and interpreter, for runs that need no services."""
    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": _ram_gib(),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "code": _code(),
    }


def describe(dsn: str) -> dict[str, Any]:
    return {
        **describe_host(),
        "postgres": _postgres(dsn),
        "kafka": _kafka_version(),
        "java": _java_version(),
        "libraries": {name: version(name) for name in LIBRARIES},
    }
