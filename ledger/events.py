"""The account stream's events beyond the opening, by the names other modules have always
imported them under. They are defined beside the decisions that record them, in the
modules of `ledger.account`; their stored topics (`ledger.events:<Name>`) are pinned on
each class and registered by `ledger.account.registry`."""

from ledger.account.bad_debt import InvoiceMarkedUncollectible
from ledger.account.credits import CreditClosed, CreditGranted
from ledger.account.identity import (
    AccountForgotten,
    ProviderCustomerLinked,
    ProviderCustomerSynced,
)
from ledger.account.invoices import (
    InvoiceCoveredByCredit,
    InvoiceDrafted,
    InvoiceFinalized,
    InvoiceVoided,
)
from ledger.account.methods import (
    DefaultPaymentMethodSet,
    PaymentMethodAdded,
    PaymentMethodExpired,
    PaymentMethodRemoved,
    PaymentMethodRevoked,
    PaymentMethodTokenMigrated,
    _MethodStateChanged,
)
from ledger.account.payments import (
    DisputeClosed,
    DisputeOpened,
    InvoicePaidOutOfBand,
    PaymentActionRequired,
    PaymentAttemptStarted,
    PaymentFailed,
    PaymentSucceeded,
    RefundIssued,
)
from ledger.account.repairs import (
    AccountRecomputeRequested,
    ReconciliationRepaired,
    ReconciliationRepairStarted,
)
from ledger.account.state import AccountEvent, MoneyMoved
from ledger.account.subscriptions import Subscribed, SubscriptionChanged

__all__ = [
    "AccountEvent",
    "AccountForgotten",
    "AccountRecomputeRequested",
    "CreditClosed",
    "CreditGranted",
    "DefaultPaymentMethodSet",
    "DisputeClosed",
    "DisputeOpened",
    "InvoiceCoveredByCredit",
    "InvoiceDrafted",
    "InvoiceFinalized",
    "InvoiceMarkedUncollectible",
    "InvoicePaidOutOfBand",
    "InvoiceVoided",
    "MoneyMoved",
    "PaymentActionRequired",
    "PaymentAttemptStarted",
    "PaymentFailed",
    "PaymentMethodAdded",
    "PaymentMethodExpired",
    "PaymentMethodRemoved",
    "PaymentMethodRevoked",
    "PaymentMethodTokenMigrated",
    "PaymentSucceeded",
    "ProviderCustomerLinked",
    "ProviderCustomerSynced",
    "ReconciliationRepairStarted",
    "ReconciliationRepaired",
    "RefundIssued",
    "Subscribed",
    "SubscriptionChanged",
    "_MethodStateChanged",
]
