"""Writes a reconciliation check into its read model (migrations/0010_reconciliation.sql,
0013_reconciliation_repairs.sql): the account's run row and its findings, replaced together
in one transaction, with the count of new findings by kind (0022_business_flow.sql). A
finding's repairs are stored twice: as data (`repairs`) and as the command line that runs
them (`repair`, adapters/cli/repair_lines.py).

The run row is upserted first and only when the check is not older than the stored one;
the upsert locks the row, so two checks of one account write one after the other and the
newer one's findings are the ones left."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from enum import Enum
from typing import Any

from psycopg import Connection

from adapters.cli.repair_lines import repair_lines
from commands.reconcile import AccountCheck
from commands.reconcile_compare import Finding, Repair

_UPSERT = (
    "INSERT INTO reconciliation_runs"
    " (account_id, checked_at, account_version, findings, by_kind, errors)"
    " VALUES (%s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (account_id) DO UPDATE SET checked_at = EXCLUDED.checked_at,"
    " account_version = EXCLUDED.account_version, findings = EXCLUDED.findings,"
    " by_kind = EXCLUDED.by_kind, errors = EXCLUDED.errors"
    " WHERE reconciliation_runs.checked_at <= EXCLUDED.checked_at"
    " RETURNING account_id"
)
_INSERT = (
    "INSERT INTO reconciliation_findings (account_id, seq, kind, processor, subject,"
    " ledger_value, processor_value, repair, repairs, detail)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)


def store_check(conn: Connection[Any], check: AccountCheck) -> bool:
    """False (nothing written) when a newer check of the account is stored already."""
    by_kind = Counter(f.kind.value for f in check.findings)
    errors = [
        {"processor": e.processor.value, "subject": e.subject, "message": e.message}
        for e in check.errors
    ]
    row = (
        check.account_id,
        check.checked_at,
        check.account_version,
        len(check.findings),
        json.dumps(dict(by_kind)),
        json.dumps(errors),
    )
    with conn.transaction():
        if conn.execute(_UPSERT, row).fetchone() is None:
            return False
        _count_new_findings(conn, check)
        conn.execute(
            "DELETE FROM reconciliation_findings WHERE account_id = %s", (check.account_id,)
        )
        with conn.cursor() as cur:
            cur.executemany(
                _INSERT, [_finding_row(check, seq, f) for seq, f in enumerate(check.findings)]
            )
    return True


def _count_new_findings(conn: Connection[Any], check: AccountCheck) -> None:
    """Adds to `reconciliation_finding_totals` (billing_reconciliation_findings_total) the
    findings the account's previous check did not have (by kind, processor and subject): a
    mismatch found again by every later check counts once, when it is first found."""
    kept = conn.execute(
        "SELECT kind, processor, subject FROM reconciliation_findings WHERE account_id = %s",
        (check.account_id,),
    ).fetchall()
    before = {(r[0], r[1], r[2]) for r in kept}
    found = Counter(
        f.kind.value
        for f in check.findings
        if (f.kind.value, f.processor.value, f.subject) not in before
    )
    if found:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO reconciliation_finding_totals AS t (kind, found) VALUES (%s, %s)"
                " ON CONFLICT (kind) DO UPDATE SET found = t.found + EXCLUDED.found",
                sorted(found.items()),
            )


def _finding_row(check: AccountCheck, seq: int, f: Finding) -> tuple[Any, ...]:
    return (
        check.account_id,
        seq,
        f.kind.value,
        f.processor.value,
        f.subject,
        f.ledger_value,
        f.processor_value,
        repair_lines(check.account_id, f.repairs),
        json.dumps([_repair_data(r) for r in f.repairs]),
        f.detail,
    )


def _repair_data(repair: Repair) -> dict[str, str]:
    """The repair's fields that are set, as JSON strings."""
    data = {k: v for k, v in dataclasses.asdict(repair).items() if v is not None}
    return {k: v.value if isinstance(v, Enum) else v for k, v in data.items()}
