"""The shapes of the processors' references (ids of their objects), checked before any is
recorded: a card number, or any text, where a reference belongs is refused.

* Stripe: `<prefix>_<letters, digits, underscores>`, at most 255 characters, the prefix
  naming the object (`pm_` a PaymentMethod, `cus_` a Customer, `pi_` a PaymentIntent, ...).
* Braintree: customer ids, payment-method tokens, transaction and dispute ids are 1 to 36
  letters, digits, underscores or dashes (the limits of `Customer.create(id=...)` and
  `PaymentMethod.create(token=...)`).
A reference whose processor is not known (a refund id, which may be the ledger's own) is
1 to 255 letters, digits or `_.:-`. Every shape also refuses a Luhn-valid digit run
(`commands.text`).
"""

from __future__ import annotations

import re
from enum import StrEnum

from commands.text import refuse_unsafe_id
from ledger.payments import Processor


class RefKind(StrEnum):
    METHOD = "payment method"
    CUSTOMER = "customer"
    PAYMENT = "payment"
    REFUND = "refund"
    DISPUTE = "dispute"
    ANY = "processor"


# `card_` and `src_`: cards saved before PaymentMethods, still chargeable by PaymentIntents.
STRIPE_PREFIXES: dict[RefKind, tuple[str, ...]] = {
    RefKind.METHOD: ("pm", "card", "src"),
    RefKind.CUSTOMER: ("cus",),
    RefKind.PAYMENT: ("pi", "ch", "py"),
    RefKind.REFUND: ("re", "pyr"),
    RefKind.DISPUTE: ("dp", "du"),
}
_STRIPE_BODY = r"_[A-Za-z0-9_]{1,250}"
BRAINTREE_ID = re.compile(r"[A-Za-z0-9_-]{1,36}")
ANY_REFERENCE = re.compile(r"[A-Za-z0-9_.:-]{1,255}")


def stripe_shape(kind: RefKind) -> re.Pattern[str]:
    return re.compile(f"(?:{'|'.join(STRIPE_PREFIXES[kind])}){_STRIPE_BODY}")


def anchored(shape: re.Pattern[str]) -> str:
    """The shape as a JSON Schema `pattern` (which matches anywhere unless anchored)."""
    return f"^{shape.pattern}$"


def check_reference(processor: Processor | None, kind: RefKind, value: str) -> str:
    """The value unchanged, or ValueError saying which shape it misses."""
    shape, expected = _shape(processor, kind)
    if not shape.fullmatch(value):
        raise ValueError(f"not a {expected}")
    return refuse_unsafe_id(value)


def _shape(processor: Processor | None, kind: RefKind) -> tuple[re.Pattern[str], str]:
    if processor is Processor.STRIPE:
        prefixes = "/".join(f"{p}_" for p in STRIPE_PREFIXES[kind])
        return stripe_shape(kind), f"Stripe {kind} id ({prefixes}...)"
    if processor is Processor.BRAINTREE:
        return BRAINTREE_ID, f"Braintree {kind} id (1-36 letters, digits, _ or -)"
    return ANY_REFERENCE, f"{kind} reference (1-255 letters, digits, _ . : or -)"


def stripe_method(value: str) -> str:
    return check_reference(Processor.STRIPE, RefKind.METHOD, value)


def braintree_token(value: str) -> str:
    return check_reference(Processor.BRAINTREE, RefKind.METHOD, value)


def any_reference(value: str) -> str:
    return check_reference(None, RefKind.ANY, value)
