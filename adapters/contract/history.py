"""The data of event versions the relay no longer publishes, kept so their schemas stay in
the contract: a consumer that reads `billing.events` from the start meets every version
ever published. The current version of each event is its class (ledger/account); when a
class's `class_version` goes up, the data of the version it replaces is written here, as
it was, and never changed again (docs/contract/COMPATIBILITY.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EarlierVersion:
    name: str
    version: int
    data: type[Any]


@dataclass(frozen=True)
class AccountOpenedV1:
    """Before tax ids: read today as v2 with `tax_id` null."""

    name: str
    email: str
    country: str
    currency: str


@dataclass(frozen=True)
class AccountProfileUpdatedV1:
    """Before tax ids: read today as v2 with `tax_id` null."""

    name: str
    email: str
    country: str
    currency: str


@dataclass(frozen=True)
class PaymentFailedV1:
    """Before `failure`: read today as v2 with the failure its decline code gives."""

    attempt_id: str
    decline_code: str


EARLIER_VERSIONS: tuple[EarlierVersion, ...] = (
    EarlierVersion("AccountOpened", 1, AccountOpenedV1),
    EarlierVersion("AccountProfileUpdated", 1, AccountProfileUpdatedV1),
    EarlierVersion("PaymentFailed", 1, PaymentFailedV1),
)
