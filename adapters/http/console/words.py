"""How the account page words the detail read model's facts: days, billing intervals,
payment methods and the collection path (template globals, registered by pages.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ledger.account.invoices import PAYPAL_DAYS_UNTIL_DUE
from queries.account_detail import AccountDetailView, MethodView

_INTERVALS = {1: "month", 12: "year"}
_BRANDS = {"amex": "American Express", "mastercard": "Mastercard", "visa": "Visa"}


def day(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d") if moment else "\u2014"


def every(months: int) -> str:
    """A plan's billing interval: 'month', 'year', '3 months'."""
    return _INTERVALS.get(months, f"{months} months")


def method_name(method: MethodView | None) -> str:
    """'Visa •••• 4242', 'PayPal payer@example.com'."""
    if method is None:
        return "no method"
    if method.kind == "card":
        brand = method.brand or "card"
        return (
            f"{_BRANDS.get(brand.lower(), brand.title())} \u2022\u2022\u2022\u2022 {method.last4}"
        )
    return f"PayPal {method.payer_email}" if method.payer_email else "PayPal"


@dataclass(frozen=True)
class Collection:
    """How an active subscription is collected: `how`, then the method `via` (kept on one
    line), and a warning when it cannot be collected that way."""

    how: str
    via: str | None = None
    warning: str | None = None


def collection_words(detail: AccountDetailView) -> Collection:
    default = detail.default_method
    if detail.collection_path == "send_invoice":
        how = f"Invoice sent, due {PAYPAL_DAYS_UNTIL_DUE} days after issue; paid through"
        return Collection(how, method_name(default))
    if default is None or not default.usable:
        return Collection("Charged automatically", None, "no usable default method")
    if default.vault_path == "legacy":
        return Collection(
            "Charged automatically through",
            method_name(default),
            "PayPal vaulted the legacy way: the wrong path until its token migration",
        )
    return Collection("Charged automatically to", method_name(default))


def vault_words(method: MethodView) -> str:
    if method.kind == "card":
        return "card at Stripe"
    if method.vault_path == "legacy":
        return "legacy (needs token migration)"
    return f"billing agreement {method.billing_agreement_id or ''}".strip()


WORDS: dict[str, Any] = {
    "day": day,
    "every": every,
    "method_name": method_name,
    "collection_words": collection_words,
    "vault_words": vault_words,
}
