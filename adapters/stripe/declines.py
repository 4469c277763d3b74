"""Stripe's decline codes in the ledger's terms. The domain decides hard or soft from the
code it records (`ledger.payments.HARD_DECLINES`); Stripe codes that mean "never retry this
card" but are not on that list are translated to the domain's code for the same case, and
every other code is recorded as Stripe gave it (so it counts as soft: worth a retry)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

GENERIC_DECLINE = "card_declined"
AUTHENTICATION_REQUIRED = "authentication_required"
CANCELED = "payment_intent_canceled"

# Stripe code -> the domain's hard-decline code with the same meaning. Codes Stripe and the
# domain share (expired_card, stolen_card, lost_card, pickup_card, restricted_card,
# incorrect_number, invalid_account, card_not_supported, fraudulent) pass through unchanged.
PERMANENT: Mapping[str, str] = {
    # the issuer says never to try this card again
    "do_not_try_again": "do_not_honor_permanently",
    "stop_payment_order": "do_not_honor_permanently",
    "revocation_of_authorization": "do_not_honor_permanently",
    "revocation_of_all_authorizations": "do_not_honor_permanently",
    # the stored card's details are wrong: the same details cannot succeed later
    "invalid_number": "incorrect_number",
    "incorrect_cvc": "invalid_payment_method",
    "invalid_cvc": "invalid_payment_method",
    "invalid_expiry_month": "invalid_payment_method",
    "invalid_expiry_year": "invalid_payment_method",
    "new_account_information_available": "invalid_account",
    # the card cannot be used for this kind of payment
    "transaction_not_allowed": "card_not_supported",
    "service_not_allowed": "card_not_supported",
    "currency_not_supported": "card_not_supported",
    "security_violation": "restricted_card",
    "merchant_blacklist": "fraudulent",
    # at charge time: the payment method (or its customer) no longer exists at Stripe
    "resource_missing": "invalid_payment_method",
    "payment_method_unactivated": "invalid_payment_method",
}


def ledger_decline_code(stripe_code: str | None) -> str:
    """The code the ledger records for a Stripe decline code (or error code)."""
    if not stripe_code:
        return GENERIC_DECLINE
    return PERMANENT.get(stripe_code, stripe_code)


def decline_of(error: Mapping[str, Any] | None) -> str:
    """The ledger's code for a Stripe error object (an API error body's `error`, or a
    PaymentIntent's `last_payment_error`): the issuer's `decline_code` when there is one
    (Stripe's `code` is then the generic `card_declined`), else the error `code`."""
    if not error:
        return GENERIC_DECLINE
    specific = error.get("decline_code") or error.get("code")
    return ledger_decline_code(specific if isinstance(specific, str) else None)
