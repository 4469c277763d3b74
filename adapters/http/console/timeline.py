"""An event of the history in words: its type as a phrase and its main facts (amounts with
their currency, invoice numbers, methods, decline codes ...) as label and value pairs.

An event's payload names invoices, attempts and methods by id; the account as it is now
(its aggregate at the latest version) turns those ids into what a person recognises: an
invoice's number, an attempt's amount, a card's brand and last four digits."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any

from adapters.http.console.pages import when
from adapters.pdf.invoice import format_money
from ledger.account import Account

Fact = tuple[str, str]
Data = dict[str, Any]
_WORD = re.compile(r"(?<!^)(?=[A-Z])")
CHANGES = {
    "renewed": "renewed for the next period",
    "cancel_scheduled": "cancellation scheduled at the period end",
    "canceled": "canceled",
    "rolled_back": "rolled back (the on-session payment failed)",
}


def in_words(event_type: str) -> str:
    """PaymentMethodAdded -> 'Payment method added'."""
    return _WORD.sub(" ", event_type).capitalize()


class Facts:
    """The main facts of each event type, read with the account's ids in mind."""

    def __init__(self, account: Account | None) -> None:
        self.account = account

    def of(self, event_type: str, data: Data) -> list[Fact]:
        reader = READERS.get(event_type)
        facts = reader(self, data) if reader else _plain_fields(data)
        return [(label, value) for label, value in facts if value]

    # --- what the payload's ids stand for ------------------------------------------------

    def invoice(self, invoice_id: str | None) -> str:
        invoices = self.account.invoices if self.account else {}
        found = invoices.get(invoice_id or "")
        return (found.number if found and found.number else None) or str(invoice_id or "")

    def method(self, method_id: str | None) -> str:
        methods = self.account.methods if self.account else {}
        found = methods.get(method_id or "")
        if found is None:
            return str(method_id or "")
        return method_words(asdict(found))

    def attempt(self, attempt_id: str) -> list[Fact]:
        attempts = self.account.attempts if self.account else {}
        found = attempts.get(attempt_id)
        if found is None:
            return [("Attempt", attempt_id)]
        return [
            ("Amount", format_money(found.amount.amount, found.amount.currency)),
            ("Invoice", self.invoice(found.invoice_id)),
            ("Method", self.method(found.method_id)),
        ]

    def attempt_money(self, attempt_id: str, amount: int) -> str:
        attempts = self.account.attempts if self.account else {}
        found = attempts.get(attempt_id)
        return format_money(amount, found.amount.currency) if found else f"{amount} (minor units)"

    def attempt_invoice(self, attempt_id: str) -> str:
        attempts = self.account.attempts if self.account else {}
        found = attempts.get(attempt_id)
        return self.invoice(found.invoice_id) if found else ""


def _money(value: Data | None) -> str:
    return format_money(value["amount"], value["currency"]) if value else ""


def _moment(value: str | None) -> str:
    return when(datetime.fromisoformat(value)) if value else ""


def method_words(method: Data) -> str:
    if method.get("kind") == "paypal":
        path = (method.get("vault_path") or "").replace("_", " ")
        return f"PayPal {method.get('payer_email') or ''} ({path})".replace("  ", " ")
    expiry = f", expires {method['exp_month']:02d}/{method['exp_year']}"
    return f"{method.get('brand') or 'card'} ending {method.get('last4')}" + (
        expiry if method.get("exp_month") else ""
    )


def _credits(used: Data | None, currency: str | None) -> str:
    total = sum((used or {}).values())
    return format_money(total, currency) if total and currency else ""


def _plain_fields(data: Data) -> list[Fact]:
    """An event type without a reader: its plain top-level fields."""
    return [
        (key.replace("_", " ").capitalize(), str(value))
        for key, value in data.items()
        if isinstance(value, str | int | float | bool)
    ]


def _nothing(_: Facts, d: Data) -> list[Fact]:
    return []


def _forgotten(_: Facts, d: Data) -> list[Fact]:
    return [("Personal data", "erased (name, email, tax id, PayPal payer emails)")]


def _profile(_: Facts, d: Data) -> list[Fact]:
    return [
        ("Name", d.get("name", "")),
        ("Email", d.get("email", "")),
        ("Country", d.get("country", "")),
        ("Currency", d.get("currency", "")),
        ("Tax id", d.get("tax_id") or ""),
    ]


def _customer(_: Facts, d: Data) -> list[Fact]:
    return [("Processor", d["processor"]), ("Customer", d["customer_id"])] + [
        (label, d.get(key, "")) for label, key in (("Name", "name"), ("Email", "email"))
    ]


def _recompute(_: Facts, d: Data) -> list[Fact]:
    return [("Read models", ", ".join(d.get("projections", [])))]


def _repair(_: Facts, d: Data) -> list[Fact]:
    return [
        ("Repair", d.get("repair", "")),
        ("Processor", d.get("processor", "")),
        ("Subject", d.get("subject", "")),
        ("Done", d.get("detail", "")),
    ]


def _method_added(_: Facts, d: Data) -> list[Fact]:
    return [
        ("Method", method_words(d["method"])),
        ("Made default", "yes" if d.get("make_default") else "no"),
    ]


def _method_ref(facts: Facts, d: Data) -> list[Fact]:
    return [("Method", facts.method(d.get("method_id")))]


def _token_migrated(facts: Facts, d: Data) -> list[Fact]:
    return [
        ("Method", facts.method(d.get("method_id"))),
        ("Token", f"{d.get('old_ref')} \u2192 {d.get('new_ref')}"),
        ("Billing agreement", d.get("billing_agreement_id") or ""),
    ]


def _subscription(_: Facts, d: Data) -> list[Fact]:
    sub = d["subscription"]
    change = d.get("change", "")
    if change.startswith("plan:"):
        change = f"plan changed from {change.removeprefix('plan:')}"
    return [
        ("Change", CHANGES.get(change, change)),
        ("Plan", sub["plan_id"]),
        ("Period", f"{_moment(sub['period_start'])} to {_moment(sub['period_end'])}"),
        ("Status", sub["status"]),
    ]


def _drafted(_: Facts, d: Data) -> list[Fact]:
    invoice = d["invoice"]
    lines = [f"{line['description']}: {_money(line['amount'])}" for line in invoice["lines"]]
    total = sum(line["amount"]["amount"] for line in invoice["lines"])
    return [("Lines", "; ".join(lines)), ("Total", format_money(total, invoice["currency"]))]


def _finalized(facts: Facts, d: Data) -> list[Fact]:
    currency = facts.account.profile.currency if facts.account else None
    return [
        ("Invoice", d.get("number") or facts.invoice(d.get("invoice_id"))),
        ("Due", _moment(d.get("due_at"))),
        ("Credit used", _credits(d.get("credits_used"), currency)),
    ]


def _invoice_ref(facts: Facts, d: Data) -> list[Fact]:
    return [("Invoice", facts.invoice(d.get("invoice_id")))]


def _voided(facts: Facts, d: Data) -> list[Fact]:
    currency = facts.account.profile.currency if facts.account else None
    return [
        *_invoice_ref(facts, d),
        ("Credit restored", _credits(d.get("credits_restored"), currency)),
    ]


def _out_of_band(facts: Facts, d: Data) -> list[Fact]:
    return [
        *_invoice_ref(facts, d),
        ("Processor", d.get("processor", "")),
        ("Reference", d.get("reference", "")),
    ]


def _attempt_started(facts: Facts, d: Data) -> list[Fact]:
    attempt = d["attempt"]
    return [
        ("Amount", _money(attempt["amount"])),
        ("Invoice", facts.invoice(attempt["invoice_id"])),
        ("Method", facts.method(attempt["method_id"])),
        ("Processor", attempt["processor"]),
        ("Purpose", attempt["purpose"].replace("_", " ")),
    ]


def _succeeded(facts: Facts, d: Data) -> list[Fact]:
    return [*facts.attempt(d["attempt_id"]), ("Processor payment", d["processor_payment_id"])]


def _action_required(facts: Facts, d: Data) -> list[Fact]:
    return [*facts.attempt(d["attempt_id"]), ("Customer must act by", _moment(d["expires_at"]))]


def _failed(facts: Facts, d: Data) -> list[Fact]:
    return [
        *facts.attempt(d["attempt_id"]),
        ("Decline code", d.get("decline_code", "")),
        ("Failure", d.get("failure") or ""),
    ]


def _refund(facts: Facts, d: Data) -> list[Fact]:
    return [
        ("Amount", facts.attempt_money(d["attempt_id"], d["amount"])),
        ("Invoice", facts.attempt_invoice(d["attempt_id"])),
        ("Refund", d.get("refund_id", "")),
    ]


def _dispute_opened(facts: Facts, d: Data) -> list[Fact]:
    return [
        ("Amount", facts.attempt_money(d["attempt_id"], d["amount"])),
        ("Invoice", facts.attempt_invoice(d["attempt_id"])),
        ("Dispute", d.get("dispute_id", "")),
    ]


def _dispute_closed(facts: Facts, d: Data) -> list[Fact]:
    return [
        ("Outcome", "won (funds returned)" if d.get("won") else "lost"),
        ("Invoice", facts.attempt_invoice(d["attempt_id"])),
    ]


def _credit_granted(_: Facts, d: Data) -> list[Fact]:
    credit = d["credit"]
    return [
        ("Amount", _money(credit["granted"])),
        ("Expires", _moment(credit.get("expires_at")) or "never"),
        ("Credit", credit["credit_id"]),
    ]


def _credit_closed(_: Facts, d: Data) -> list[Fact]:
    return [("Credit", d.get("credit_id", "")), ("Now", d.get("status", ""))]


READERS: dict[str, Callable[[Facts, Data], list[Fact]]] = {
    "AccountOpened": _profile,
    "AccountProfileUpdated": _profile,
    "AccountClosed": _nothing,
    "AccountForgotten": _forgotten,
    "ProviderCustomerLinked": _customer,
    "ProviderCustomerSynced": _customer,
    "AccountRecomputeRequested": _recompute,
    "ReconciliationRepaired": _repair,
    "ReconciliationRepairStarted": _repair,
    "PaymentMethodAdded": _method_added,
    "DefaultPaymentMethodSet": _method_ref,
    "PaymentMethodRemoved": _method_ref,
    "PaymentMethodExpired": _method_ref,
    "PaymentMethodRevoked": _method_ref,
    "PaymentMethodTokenMigrated": _token_migrated,
    "Subscribed": _subscription,
    "SubscriptionChanged": _subscription,
    "InvoiceDrafted": _drafted,
    "InvoiceFinalized": _finalized,
    "InvoiceCoveredByCredit": _invoice_ref,
    "InvoiceMarkedUncollectible": _invoice_ref,
    "InvoiceVoided": _voided,
    "InvoicePaidOutOfBand": _out_of_band,
    "PaymentAttemptStarted": _attempt_started,
    "PaymentSucceeded": _succeeded,
    "PaymentActionRequired": _action_required,
    "PaymentFailed": _failed,
    "RefundIssued": _refund,
    "DisputeOpened": _dispute_opened,
    "DisputeClosed": _dispute_closed,
    "CreditGranted": _credit_granted,
    "CreditClosed": _credit_closed,
}
