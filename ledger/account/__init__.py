"""The billing account aggregate (`Account`), split by concern; see `aggregate`.

Importing the package registers every stored topic (`registry`), so stored events and
snapshots resolve whichever module was imported first."""

from ledger.account.aggregate import Account
from ledger.account.invoices import PAYPAL_DAYS_UNTIL_DUE
from ledger.account.registry import PUBLIC_EVENTS, public_name
from ledger.account.state import REMEMBERED_COMMANDS, AccountEvent, AccountStatus, MoneyMoved

__all__ = [
    "PAYPAL_DAYS_UNTIL_DUE",
    "PUBLIC_EVENTS",
    "REMEMBERED_COMMANDS",
    "Account",
    "AccountEvent",
    "AccountStatus",
    "MoneyMoved",
    "public_name",
]
