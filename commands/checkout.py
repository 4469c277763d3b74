"""The one payment flow, for every product: start a payment session, then complete it.

Start: the browser gets what it needs to collect a method (a Stripe SetupIntent client
secret for a card, a Braintree client token for PayPal) and the Turnstile site key.
Complete: the Turnstile token is verified server side (single use), the method is vaulted
at the processor and recorded as the default, and, if the session asked for it, the
account's open invoices are paid on-session with it.

Every step of a completion has a command id derived from the session id, so completing a
session again (a retry after a timeout or a crash) repeats nothing: the vaulting and each
payment are found by their ids, and a completed session answers with its recorded outcome.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from uuid import UUID, uuid5

import structlog

from commands import billing, vaulting
from commands.base import CommandResult, Deps, load_account, new_id_for
from commands.checkout_ports import HumanCheck, SessionStore
from commands.errors import CommandIdReused, CommandInFlight
from commands.models import (
    AddVaultedCard,
    CommandContext,
    CompletePaymentSession,
    PayInvoice,
    StartCardSetup,
    StartPaymentSession,
    VaultPayPal,
)
from ledger.errors import DomainError, ErrorKind
from ledger.invoices import InvoiceStatus
from ledger.payments import AttemptInFlight

log = structlog.get_logger("checkout")
SESSION_NAMESPACE = UUID("a3c1f0d2-7e55-4c7b-9a61-2f4b8d9e0c13")
MethodKindName = Literal["card", "paypal"]
IN_FLIGHT = "in_flight"  # an invoice whose own attempt is still in flight: left to it


class PaymentSessionNotFound(DomainError):
    """No such payment session for this account (unknown, or expired)."""

    code = "payment_session_not_found"
    kind = ErrorKind.NOT_FOUND


class HumanCheckFailed(DomainError):
    """The Turnstile challenge was not passed (or its token was already used); nothing was
    vaulted or charged."""

    code = "human_check_failed"
    kind = ErrorKind.FORBIDDEN

    def __init__(self, detail: str | None = None, error_codes: tuple[str, ...] = ()) -> None:
        super().__init__(detail)
        self.error_codes = error_codes


class CardNotConfirmed(DomainError):
    """The card is not the one the customer confirmed on this session's SetupIntent (or the
    SetupIntent was not confirmed): nothing was vaulted."""

    code = "card_setup_not_confirmed"
    kind = ErrorKind.CONFLICT


class SessionResultMismatch(DomainError):
    """The completion does not carry the result this session's method needs (a card session
    needs `payment_method`, a PayPal session a `nonce`)."""

    code = "payment_session_result_mismatch"
    kind = ErrorKind.INVALID


@dataclass(frozen=True)
class Checkout:
    """What the flow needs besides the write side: the bot check and the session store."""

    deps: Deps
    human_check: HumanCheck
    sessions: SessionStore
    ttl_s: int = 1800


@dataclass(frozen=True)
class StartedSession:
    session_id: str
    account_id: UUID
    method: MethodKindName
    expires_at: datetime
    turnstile_site_key: str
    stripe_client_secret: str | None = None
    braintree_client_token: str | None = None


@dataclass(frozen=True)
class InvoicePayment:
    invoice_id: str
    attempt_id: str
    status: str
    decline_code: str | None
    client_secret: str | None = None


@dataclass(frozen=True)
class CompletedSession:
    session_id: str
    account_id: UUID
    method_id: str
    version: int
    payments: list[InvoicePayment] = field(default_factory=list)
    replayed: bool = False


def start_session(co: Checkout, cmd: StartPaymentSession, ctx: CommandContext) -> StartedSession:
    deps = co.deps
    # Scoped to the account: another account sending the same idempotency key gets its own.
    session_id = new_id_for(deps, ctx, f"payment-session:{cmd.account_id}")
    _refuse_other_request(co.sessions.get(session_id), ctx)
    expires_at = deps.clock.now() + timedelta(seconds=co.ttl_s)
    client_secret, client_token, setup_id = None, None, None
    if cmd.method == "card":
        setup = vaulting.start_card_setup(deps, StartCardSetup(account_id=cmd.account_id), ctx)
        client_secret, setup_id = setup.setup.client_secret, setup.setup.setup_id
    else:
        client_token = vaulting.paypal_client_token(deps, cmd.account_id, ctx)
    record = {
        "account_id": str(cmd.account_id),
        "method": cmd.method,
        "setup_id": setup_id,
        # what the payment page hands the browser (adapters/http/pay): the session is its key
        "stripe_client_secret": client_secret,
        "braintree_client_token": client_token,
        "pay_open_invoices": cmd.pay_open_invoices,
        "status": "open",
        "fingerprint": ctx.fingerprint,
    }
    existing = co.sessions.get(session_id)
    if existing is None or existing.get("status") != "completed":  # a repeat: same session
        co.sessions.put(session_id, record, co.ttl_s)
    log.info("payment_session.started", session_id=session_id, method=cmd.method)
    return StartedSession(
        session_id,
        cmd.account_id,
        cmd.method,
        expires_at,
        co.human_check.site_key,
        stripe_client_secret=client_secret,
        braintree_client_token=client_token,
    )


def complete_session(
    co: Checkout, cmd: CompletePaymentSession, ctx: CommandContext, remote_ip: str | None
) -> CompletedSession:
    session = _session(co, cmd)
    if session.get("status") == "completed":
        return _replay(session["outcome"])
    _require_result_for(session["method"], cmd)
    # The key makes a retried completion with the same token no reuse of it; a new token
    # (after a refusal) is a check of its own.
    check_key = str(uuid5(SESSION_NAMESPACE, f"{cmd.session_id}:check:{cmd.turnstile_token}"))
    check = co.human_check.verify(cmd.turnstile_token, remote_ip, check_key)
    if not check.passed:
        log.warning("payment_session.human_check_failed", codes=check.error_codes)
        raise HumanCheckFailed(error_codes=check.error_codes)
    if session["method"] == "card":
        _require_confirmed(co.deps, session["setup_id"], cmd.payment_method)
    vault_ctx = _step(ctx, cmd.session_id, "vault")
    result = _vault(co.deps, session["method"], cmd, vault_ctx)
    method_id = new_id_for(co.deps, vault_ctx, "method")
    payments = _pay_open(co.deps, cmd, method_id, ctx) if session["pay_open_invoices"] else []
    version = load_account(co.deps.app, cmd.account_id).version
    done = CompletedSession(cmd.session_id, cmd.account_id, method_id, version, payments)
    co.sessions.replace(cmd.session_id, {**session, "status": "completed", "outcome": _dump(done)})
    log.info("payment_session.completed", session_id=cmd.session_id, replayed=result.replayed)
    return done


def _refuse_other_request(session: dict[str, Any] | None, ctx: CommandContext) -> None:
    """A session is started by a keyed request as an account remembers a command: the same
    key with another request (another method, or paying open invoices or not) is refused."""
    first = session.get("fingerprint") if session is not None else None
    if first is not None and ctx.fingerprint is not None and first != ctx.fingerprint:
        raise CommandIdReused()


def _session(co: Checkout, cmd: CompletePaymentSession) -> dict[str, Any]:
    session = co.sessions.get(cmd.session_id)
    if session is None or session.get("account_id") != str(cmd.account_id):
        raise PaymentSessionNotFound()
    return session


def _require_confirmed(deps: Deps, setup_id: str, payment_method: str | None) -> None:
    """Only the card confirmed on the session's own SetupIntent (so authenticated by the
    customer for off-session charges) is vaulted; any other pm_... is refused."""
    confirmed = vaulting.card_vault(deps).confirmed_card(setup_id)
    if confirmed is None or confirmed != payment_method:
        raise CardNotConfirmed()


def _require_result_for(method: str, cmd: CompletePaymentSession) -> None:
    if method == "card" and (cmd.payment_method is None or cmd.nonce is not None):
        raise SessionResultMismatch("a card session is completed with `payment_method` only")
    if method == "paypal" and (cmd.nonce is None or cmd.payment_method is not None):
        raise SessionResultMismatch("a PayPal session is completed with `nonce` only")


def _vault(
    deps: Deps, method: str, cmd: CompletePaymentSession, ctx: CommandContext
) -> CommandResult:
    if method == "card":
        assert cmd.payment_method is not None  # checked by _require_result_for
        card = AddVaultedCard(account_id=cmd.account_id, payment_method=cmd.payment_method)
        return vaulting.add_vaulted_card(deps, card, ctx)
    assert cmd.nonce is not None
    return vaulting.vault_paypal(deps, VaultPayPal(account_id=cmd.account_id, nonce=cmd.nonce), ctx)


def _pay_open(
    deps: Deps, cmd: CompletePaymentSession, method_id: str, ctx: CommandContext
) -> list[InvoicePayment]:
    """Each open invoice with an amount due, oldest first, on-session with the new method.
    A decline stops nothing else: every invoice gets its own attempt and outcome."""
    account = load_account(deps.app, cmd.account_id)
    due = [
        inv
        for inv in account.invoices.values()
        if inv.status is InvoiceStatus.OPEN and inv.amount_due.is_positive
    ]
    paid = []
    for invoice in sorted(due, key=lambda i: (i.number or "", i.invoice_id)):
        pay = PayInvoice(
            account_id=cmd.account_id, invoice_id=invoice.invoice_id, method_id=method_id
        )
        try:
            out = billing.pay_invoice(deps, pay, _step(ctx, cmd.session_id, invoice.invoice_id))
        except CommandInFlight:
            raise  # this session's own payment, still charging: the caller retries later
        except AttemptInFlight:  # e.g. a renewal waiting for 3-D Secure: not charged twice
            waiting = _attempt_in_flight(deps, cmd.account_id, invoice.invoice_id)
            paid.append(InvoicePayment(invoice.invoice_id, waiting, IN_FLIGHT, None))
            continue
        paid.append(
            InvoicePayment(
                out.invoice_id,
                out.attempt_id,
                out.status.value,
                out.decline_code,
                out.client_secret,
            )
        )
    return paid


def _attempt_in_flight(deps: Deps, account_id: UUID, invoice_id: str) -> str:
    attempts = load_account(deps.app, account_id).attempts.values()
    return next(a.attempt_id for a in attempts if a.invoice_id == invoice_id and a.in_flight)


def _step(ctx: CommandContext, session_id: str, step: str) -> CommandContext:
    """A step's id comes from the session, not from the request: completions of one session
    with different requests (a new Turnstile token after a refusal) share their steps, so a
    step carries no request fingerprint."""
    command_id = uuid5(SESSION_NAMESPACE, f"{session_id}:{step}")
    update = {"command_id": command_id, "causation_id": ctx.command_id, "fingerprint": None}
    return ctx.model_copy(update=update)


def _dump(done: CompletedSession) -> dict[str, Any]:
    data = asdict(done)
    data["account_id"] = str(done.account_id)
    return data


def _replay(data: dict[str, Any]) -> CompletedSession:
    payments = [InvoicePayment(**p) for p in data["payments"]]
    return CompletedSession(
        data["session_id"],
        UUID(data["account_id"]),
        data["method_id"],
        data["version"],
        payments,
        replayed=True,
    )
