"""Braintree's answers to a sale, in the ledger's decline codes (ledger.payments decides
which are hard: HARD_DECLINES).

Hard or soft is Braintree's call: every processor response carries
`processor_response_type` (`soft_declined` / `hard_declined`). The table below only
names the codes we know; a name whose kind disagrees with Braintree's type is replaced by
the generic name of the right kind, so dunning never retries a method Braintree calls dead
nor gives up on one it calls retryable. Verify the table against Braintree's processor
response list before relying on a specific name.
"""

from __future__ import annotations

from ledger.payments import FailureKind, failure_kind

GENERIC_HARD = "do_not_honor_permanently"
GENERIC_SOFT = "processor_declined"
INVALID_REQUEST = "processor_validation_error"  # soft: nothing was charged

PROCESSOR_RESPONSES: dict[str, str] = {
    "2000": "do_not_honor",
    "2001": "insufficient_funds",
    "2002": "limit_exceeded",
    "2003": "activity_limit_exceeded",
    "2004": "expired_card",
    "2005": "incorrect_number",
    "2006": "invalid_payment_method",  # invalid expiration date
    "2007": "invalid_account",
    "2012": "lost_card",
    "2013": "stolen_card",
    "2014": "fraudulent",
    "2038": "processor_declined",
    "2044": "do_not_honor_permanently",  # declined, call issuer
    "2046": "declined",
    "2047": "pickup_card",
    "2057": "restricted_card",
    "2074": "paypal_funding_declined",
    "2075": "account_closed",  # PayPal payer account locked or closed
    "3000": "processor_network_unavailable",
}

GATEWAY_REJECTIONS: dict[str, str] = {
    "fraud": "fraudulent",
    "risk_threshold": "fraudulent",
    "token_issuance": "invalid_payment_method",
    "duplicate": "duplicate_transaction",
    "application_incomplete": INVALID_REQUEST,
}

# validation errors on a sale that mean the method itself cannot be charged
METHOD_ERRORS = frozenset(
    {
        "91516",  # payment method does not belong to the customer
        "91517",  # payment method token card type is not accepted
        "91518",  # payment method token is invalid
        "91564",  # payment method nonce consumed
        "91565",  # payment method nonce unknown
        "91577",  # payment instrument not supported by the merchant account
    }
)

_KINDS = {"hard_declined": FailureKind.HARD, "soft_declined": FailureKind.SOFT}


def processor_decline(code: str | None, response_type: str | None) -> str:
    """A processor_declined or failed sale."""
    name = PROCESSOR_RESPONSES.get(code or "")
    kind = _KINDS.get(response_type or "")
    if kind is None:  # no type given: the table decides, unknown codes are soft
        return name or GENERIC_SOFT
    if name is not None and failure_kind(name) is kind:
        return name
    return GENERIC_HARD if kind is FailureKind.HARD else GENERIC_SOFT


def gateway_rejection(reason: str | None) -> str:
    return GATEWAY_REJECTIONS.get(reason or "", "gateway_rejected")


def validation_decline(codes: list[str]) -> str:
    """A sale refused by validation: nothing was charged."""
    return "invalid_payment_method" if METHOD_ERRORS & set(codes) else INVALID_REQUEST
