"""The `scheduled_jobs` table: when each scheduled job last started and last succeeded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from psycopg import Connection


@dataclass(frozen=True)
class JobTimes:
    last_started_at: datetime | None
    last_succeeded_at: datetime | None


def record_start(conn: Connection[Any], job: str, at: datetime) -> None:
    conn.execute(
        "INSERT INTO scheduled_jobs (job, last_started_at) VALUES (%s, %s)"
        " ON CONFLICT (job) DO UPDATE SET last_started_at = EXCLUDED.last_started_at",
        (job, at),
    )


def record_success(conn: Connection[Any], job: str, at: datetime) -> None:
    conn.execute(
        "INSERT INTO scheduled_jobs (job, last_succeeded_at) VALUES (%s, %s)"
        " ON CONFLICT (job) DO UPDATE SET last_succeeded_at = EXCLUDED.last_succeeded_at",
        (job, at),
    )


def job_times(conn: Connection[Any]) -> dict[str, JobTimes]:
    rows = conn.execute(
        "SELECT job, last_started_at, last_succeeded_at FROM scheduled_jobs"
    ).fetchall()
    return {job: JobTimes(started, succeeded) for job, started, succeeded in rows}
