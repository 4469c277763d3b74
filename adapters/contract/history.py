"""The data of event versions the relay no longer publishes, kept so their schemas stay in
the contract: a consumer that reads `billing.events` from the start meets every version
ever published. The current version of each event is its class (ledger/account); when a
class's `class_version` goes up, the data of the version it replaces is written here, as
it was, and never changed again (docs/contract/COMPATIBILITY.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.methods import PaymentMethod


@dataclass(frozen=True)
class EarlierVersion:
    name: str
    version: int
    data: type[Any]


@dataclass(frozen=True)
class AccountOpenedV1:
    """Before tax ids: read today as v3 with `tax_id` null (and sealed)."""

    name: str
    email: str
    country: str
    currency: str


@dataclass(frozen=True)
class AccountProfileUpdatedV1:
    """Before tax ids: read today as v3 with `tax_id` null (and sealed)."""

    name: str
    email: str
    country: str
    currency: str


@dataclass(frozen=True)
class AccountOpenedV2:
    """Personal fields in clear, before they were sealed (v3)."""

    name: str
    email: str
    country: str
    currency: str
    tax_id: str | None


@dataclass(frozen=True)
class AccountProfileUpdatedV2:
    """Personal fields in clear, before they were sealed (v3)."""

    name: str
    email: str
    country: str
    currency: str
    tax_id: str | None


@dataclass(frozen=True)
class ProviderCustomerSyncedV1:
    """Name and email in clear, before they were sealed (v2)."""

    processor: str
    customer_id: str
    name: str
    email: str


@dataclass(frozen=True)
class PaymentMethodAddedV1:
    """The PayPal payer email in clear, before it was sealed (v2)."""

    method: PaymentMethod
    make_default: bool


@dataclass(frozen=True)
class PaymentFailedV1:
    """Before `failure`: read today as v2 with the failure its decline code gives."""

    attempt_id: str
    decline_code: str


EARLIER_VERSIONS: tuple[EarlierVersion, ...] = (
    EarlierVersion("AccountOpened", 1, AccountOpenedV1),
    EarlierVersion("AccountOpened", 2, AccountOpenedV2),
    EarlierVersion("AccountProfileUpdated", 1, AccountProfileUpdatedV1),
    EarlierVersion("AccountProfileUpdated", 2, AccountProfileUpdatedV2),
    EarlierVersion("PaymentFailed", 1, PaymentFailedV1),
    EarlierVersion("PaymentMethodAdded", 1, PaymentMethodAddedV1),
    EarlierVersion("ProviderCustomerSynced", 1, ProviderCustomerSyncedV1),
)
