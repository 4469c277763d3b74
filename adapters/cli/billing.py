"""Operator commands for billing: the billing run, credits, write-offs, voids, refunds."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated
from uuid import UUID, uuid4

import typer
from rich.console import Console

from adapters.bootstrap import Container
from adapters.cli.runtime import configured_container, open_account_pages
from commands import bad_debt, billing, credits, dunning, janitor, refunds
from commands.base import fingerprint
from commands.models import (
    CommandContext,
    GrantCredit,
    RefundPayment,
    RevokeCredit,
    RunBilling,
    VoidInvoice,
    WriteOffBadDebt,
)
from ledger.meta import ActorKind, Surface
from queries.in_flight import accounts_in_flight_since

app = typer.Typer(no_args_is_help=True, help="Billing operations.")
console = Console()
Actor = Annotated[str, typer.Option(envvar="USER", help="Who is acting (recorded)")]
Reason = Annotated[str, typer.Option(help="Why (recorded on the events; required)")]
PAGE = 500


def _ctx(actor: str, reason: str | None, kind: ActorKind = ActorKind.SUPPORT) -> CommandContext:
    return CommandContext(
        actor_id=actor or "operator", actor_kind=kind, surface=Surface.CLI, reason=reason
    )


@app.command("resolve-in-flight")
def resolve_in_flight(
    account: Annotated[list[UUID] | None, typer.Option(help="Only these")] = None,
    older_than_minutes: Annotated[int, typer.Option(min=1)] = 15,
    actor: Actor = "janitor",
) -> None:
    """Ask the processors about attempts pending too long, and record what they say; cancel
    waits for the customer (3-D Secure) that expired and record them failed."""
    older_than = timedelta(minutes=older_than_minutes)
    with configured_container() as container:
        if account is None:
            with container.connection() as conn:
                now = container.deps.clock.now()
                account = accounts_in_flight_since(conn, now - older_than, 10_000, now)
        counts: Counter[str] = Counter()
        for account_id in account:
            ctx = _ctx(actor, None, ActorKind.SYSTEM)
            for resolved in janitor.resolve_in_flight(container.deps, account_id, older_than, ctx):
                counts[resolved.resolution.value] += 1
                console.print(f"{account_id} {resolved.attempt_id}: {resolved.resolution.value}")
    console.print(f"{len(account)} accounts; " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    if counts[janitor.Resolution.UNREACHABLE.value]:
        raise typer.Exit(code=1)


@app.command("run")
def run(
    account: Annotated[
        list[UUID] | None, typer.Option(help="Only these (default: all open)")
    ] = None,
    actor: Actor = "billing-run",
) -> None:
    """Renewals, dunning and credit expiry due now; exits 1 when an account failed."""
    totals = {"accounts": 0, "renewed": 0, "attempts": 0, "exhausted": 0, "errors": 0}
    with configured_container() as container:
        pages = [account] if account else open_account_pages(container, PAGE)
        for page in pages:
            report = dunning.run_billing(
                container.deps, RunBilling(account_ids=page), _ctx(actor, None, ActorKind.SYSTEM)
            )
            totals["accounts"] += report.accounts
            totals["renewed"] += report.renewed
            totals["attempts"] += len(report.attempts)
            totals["exhausted"] += len(report.exhausted)
            totals["errors"] += len(report.errors)
            for account_id, error in report.errors.items():
                console.print(f"[red]{account_id}[/red]: {error}")
    console.print(" ".join(f"{k}={v}" for k, v in totals.items()))
    if totals["errors"]:
        raise typer.Exit(code=1)


@app.command("grant-credit")
def grant_credit(
    account_id: UUID, amount: int, currency: str, reason: Reason, actor: Actor = ""
) -> None:
    """Grant customer credit (minor units)."""
    cmd = GrantCredit(account_id=account_id, amount=amount, currency=currency)
    _do(lambda c: credits.grant_credit(c.deps, cmd, _ctx(actor, reason)).version, "granted")


@app.command("revoke-credit")
def revoke_credit(account_id: UUID, credit_id: str, reason: Reason, actor: Actor = "") -> None:
    """Revoke what remains of a credit."""
    cmd = RevokeCredit(account_id=account_id, credit_id=credit_id)
    _do(lambda c: credits.revoke_credit(c.deps, cmd, _ctx(actor, reason)).version, "revoked")


@app.command("write-off")
def write_off(account_id: UUID, invoice_id: str, reason: Reason, actor: Actor = "") -> None:
    """Write off an uncollectible invoice (bad-debt expense)."""
    cmd = WriteOffBadDebt(account_id=account_id, invoice_id=invoice_id)
    _do(
        lambda c: bad_debt.write_off_bad_debt(c.deps, cmd, _ctx(actor, reason)).version,
        "written off",
    )


@app.command("void")
def void(account_id: UUID, invoice_id: str, reason: Reason, actor: Actor = "") -> None:
    """Void an open invoice (credits restored)."""
    cmd = VoidInvoice(account_id=account_id, invoice_id=invoice_id)
    _do(lambda c: billing.void_invoice(c.deps, cmd, _ctx(actor, reason)).version, "voided")


@app.command("refund")
def refund(
    account_id: UUID,
    attempt_id: str,
    amount: int,
    reason: Reason,
    actor: Actor = "",
    key: Annotated[UUID | None, typer.Option(help="Idempotency key; reuse it to retry")] = None,
) -> None:
    """Refund (part of) a successful payment, in minor units."""
    key = key or uuid4()
    console.print(f"idempotency key {key} (pass --key {key} to retry safely)")
    cmd = RefundPayment(account_id=account_id, attempt_id=attempt_id, amount=amount)
    request = fingerprint("refund", cmd.model_dump(mode="json"))
    context = _ctx(actor, reason).model_copy(update={"command_id": key, "fingerprint": request})
    _do(lambda c: refunds.refund_payment(c.deps, cmd, context).version, "refunded")


def _do(action: Callable[[Container], int], done: str) -> None:
    with configured_container() as container:
        version = action(container)  # a DomainError ends as one line (adapters/cli/exits.py)
    console.print(f"{done} (account version {version})")
