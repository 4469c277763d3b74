"""The public names of the account's events: one explicit table of name, class and schema
version. Envelopes, Kafka headers, the audit history and docs/events.md use these names;
they are a published contract, so they are written here rather than derived from where a
class is defined or what it is called (`__qualname__` changes when code is moved).

Stored topics are the other half of that contract: each class pins its own (`TOPIC`), and
importing this module registers them, so events stored before a class moved still resolve.
`tests/unit/test_event_registry.py` checks the table against every event class."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eventsourcing.utils import register_topic

from ledger.account import bad_debt, credits, identity, invoices, methods, payments, repairs
from ledger.account import subscriptions as subs
from ledger.account.aggregate import Account


@dataclass(frozen=True)
class PublicEvent:
    name: str
    event_class: type[Any]
    version: int


class UnregisteredEvent(LookupError):
    """An event class with no public name: add it to PUBLIC_EVENTS."""


PUBLIC_EVENTS: tuple[PublicEvent, ...] = (
    # identity
    PublicEvent("AccountOpened", Account.Opened, 3),
    PublicEvent("AccountProfileUpdated", identity.ProfileUpdated, 3),
    PublicEvent("AccountClosed", identity.Closed, 1),
    PublicEvent("ProviderCustomerLinked", identity.ProviderCustomerLinked, 1),
    PublicEvent("ProviderCustomerSynced", identity.ProviderCustomerSynced, 2),
    PublicEvent("AccountForgotten", identity.AccountForgotten, 1),
    # payment methods
    PublicEvent("PaymentMethodAdded", methods.PaymentMethodAdded, 2),
    PublicEvent("DefaultPaymentMethodSet", methods.DefaultPaymentMethodSet, 1),
    PublicEvent("PaymentMethodRemoved", methods.PaymentMethodRemoved, 1),
    PublicEvent("PaymentMethodExpired", methods.PaymentMethodExpired, 1),
    PublicEvent("PaymentMethodRevoked", methods.PaymentMethodRevoked, 1),
    PublicEvent("PaymentMethodTokenMigrated", methods.PaymentMethodTokenMigrated, 1),
    # subscriptions and invoices
    PublicEvent("Subscribed", subs.Subscribed, 1),
    PublicEvent("SubscriptionChanged", subs.SubscriptionChanged, 1),
    PublicEvent("InvoiceDrafted", invoices.InvoiceDrafted, 1),
    PublicEvent("InvoiceFinalized", invoices.InvoiceFinalized, 1),
    PublicEvent("InvoiceCoveredByCredit", invoices.InvoiceCoveredByCredit, 1),
    PublicEvent("InvoiceVoided", invoices.InvoiceVoided, 1),
    # payments
    PublicEvent("PaymentAttemptStarted", payments.PaymentAttemptStarted, 1),
    PublicEvent("PaymentSucceeded", payments.PaymentSucceeded, 1),
    PublicEvent("PaymentActionRequired", payments.PaymentActionRequired, 1),
    PublicEvent("PaymentFailed", payments.PaymentFailed, 2),
    PublicEvent("InvoicePaidOutOfBand", payments.InvoicePaidOutOfBand, 1),
    PublicEvent("RefundIssued", payments.RefundIssued, 1),
    PublicEvent("DisputeOpened", payments.DisputeOpened, 1),
    PublicEvent("DisputeClosed", payments.DisputeClosed, 1),
    # credits
    PublicEvent("CreditGranted", credits.CreditGranted, 1),
    PublicEvent("CreditClosed", credits.CreditClosed, 1),
    # bad debt
    PublicEvent("InvoiceMarkedUncollectible", bad_debt.InvoiceMarkedUncollectible, 1),
    # support's records
    PublicEvent("AccountRecomputeRequested", repairs.AccountRecomputeRequested, 1),
    PublicEvent("ReconciliationRepaired", repairs.ReconciliationRepaired, 1),
    PublicEvent("ReconciliationRepairStarted", repairs.ReconciliationRepairStarted, 1),
)

_BY_CLASS = {e.event_class: e for e in PUBLIC_EVENTS}
_BY_NAME = {e.name: e for e in PUBLIC_EVENTS}

for _registered in PUBLIC_EVENTS:
    register_topic(_registered.event_class.TOPIC, _registered.event_class)


def public_event(event_class: type[Any]) -> PublicEvent:
    try:
        return _BY_CLASS[event_class]
    except KeyError:
        raise UnregisteredEvent(f"{event_class.__qualname__} has no public name") from None


def public_name(event_class: type[Any]) -> str:
    return public_event(event_class).name


def event_class_named(name: str) -> type[Any]:
    try:
        return _BY_NAME[name].event_class
    except KeyError:
        raise UnregisteredEvent(f"no event is named {name}") from None
