"""Reads over the reconciliation read model (`reconciliation_runs`, `reconciliation_findings`):
what the last check of an account found, and the accounts with findings of a kind."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg import Connection
from pydantic import BaseModel, ConfigDict


class RepairView(BaseModel):
    """A repair of a finding: the fields of a repair request (`action` and the ids it
    names; unset fields are left out)."""

    model_config = ConfigDict(frozen=True)

    action: str
    processor: str | None = None
    method_ref: str | None = None
    method_id: str | None = None
    attempt_id: str | None = None
    refund_id: str | None = None
    dispute_id: str | None = None


class FindingView(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: str
    processor: str
    subject: str
    ledger_value: str | None
    processor_value: str | None
    repair: str | None  # the command line that repairs it; None: a person must look
    detail: str
    # The same repairs as data (any one repairs it); None for a finding stored before they
    # were (migration 0013): its command line is all there is until the account is checked
    repairs: list[RepairView] | None = None


class CheckErrorView(BaseModel):
    model_config = ConfigDict(frozen=True)

    processor: str
    subject: str
    message: str


class ReconciliationView(BaseModel):
    model_config = ConfigDict(frozen=True)

    account_id: UUID
    checked_at: datetime
    account_version: int  # the ledger's version the processors were compared with
    in_step: bool  # no findings and every processor answered
    by_kind: dict[str, int]
    findings: list[FindingView]
    errors: list[CheckErrorView]


_RUN = (
    "SELECT account_id, checked_at, account_version, by_kind, errors"
    " FROM reconciliation_runs WHERE account_id = %s"
)
_FINDINGS = (
    "SELECT kind, processor, subject, ledger_value, processor_value, repair, detail, repairs"
    " FROM reconciliation_findings WHERE account_id = %s ORDER BY seq"
)
_FIELDS = list(FindingView.model_fields)


def get_reconciliation(conn: Connection[Any], account_id: UUID) -> ReconciliationView | None:
    """None when the account was never checked."""
    run = conn.execute(_RUN, (account_id,)).fetchone()
    if run is None:
        return None
    rows = conn.execute(_FINDINGS, (account_id,)).fetchall()
    findings = [FindingView(**dict(zip(_FIELDS, r, strict=True))) for r in rows]
    errors = [CheckErrorView(**e) for e in run[4]]
    return ReconciliationView(
        account_id=run[0],
        checked_at=run[1],
        account_version=run[2],
        in_step=not findings and not errors,
        by_kind=dict(run[3]),
        findings=findings,
        errors=errors,
    )


def accounts_with_findings(
    conn: Connection[Any], kind: str | None = None, limit: int = 100
) -> list[UUID]:
    """Accounts whose last check found something (of `kind`), oldest check first."""
    rows = conn.execute(
        "SELECT r.account_id FROM reconciliation_runs r WHERE r.findings > 0"
        " AND (%(kind)s::text IS NULL OR EXISTS (SELECT 1 FROM reconciliation_findings f"
        "  WHERE f.account_id = r.account_id AND f.kind = %(kind)s))"
        " ORDER BY r.checked_at, r.account_id LIMIT %(limit)s",
        {"kind": kind, "limit": limit},
    ).fetchall()
    return [r[0] for r in rows]
