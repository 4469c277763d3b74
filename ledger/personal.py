"""Which fields of the account's events are personal data, and what they read as once the
account is forgotten.

Personal fields are stored sealed with the account's data key (commands/personal_mapper.py);
forgetting the account destroys the key, after which every sealed field reads as its erased
value below. The erased values pass the profile's own checks, so an account replays and
rebuilds the same way before and after it is forgotten; money fields are never personal.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

ERASED = "[erased]"
ERASED_EMAIL = "erased@erased.invalid"

# Event topic -> dotted paths of its personal fields ("method.payer_email": a field of a
# value object the event carries). Keyed by stored topic: a topic never changes (registry.py).
PERSONAL_FIELDS: dict[str, tuple[str, ...]] = {
    "ledger.account:Account.Opened": ("name", "email", "tax_id"),
    "ledger.account:Account.ProfileUpdated": ("name", "email", "tax_id"),
    "ledger.events:ProviderCustomerSynced": ("name", "email"),
    "ledger.events:PaymentMethodAdded": ("method.payer_email",),
}

_ERASED_VALUES: dict[str, str | None] = {
    "name": ERASED,
    "email": ERASED_EMAIL,
    "tax_id": None,
    "method.payer_email": ERASED_EMAIL,
}


def erased_value(path: str) -> str | None:
    """What a personal field reads as once its key is gone."""
    return _ERASED_VALUES[path]


def get_path(state: dict[str, Any], path: str) -> Any:
    head, _, rest = path.partition(".")
    value = state.get(head)
    return getattr(value, rest) if rest and value is not None else value


def set_path(state: dict[str, Any], path: str, value: Any) -> None:
    """Sets a field in an event's state; a nested one by replacing its (frozen) holder."""
    head, _, rest = path.partition(".")
    if not rest:
        state[head] = value
    elif state.get(head) is not None:
        state[head] = replace(state[head], **{rest: value})
