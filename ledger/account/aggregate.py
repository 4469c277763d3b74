"""The billing account: one event stream, one aggregate, composed from one mixin per concern.

Several aggregates would be wrong here: closing checks the receivable, subscriptions and
credit; bad debt blocks purchases; removing a method checks the attempts in flight. So the
invariants stay in one aggregate and one stream, and only the code is split: each concern's
module (`identity`, `methods`, `invoices`, `subscriptions`, `payments`, `credits`,
`bad_debt`, `repairs`) holds its decisions and, beside them, the events they record with
the state change each makes (`apply_to`). Shared state, derived facts and guards are in
`state`. Stored topics are pinned (`TOPIC`), so moving a class never changes them; public
event names come from `ledger.account.registry`."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.account.bad_debt import BadDebt
from ledger.account.identity import Closed, Identity, ProfileUpdated
from ledger.account.methods import PaymentMethods
from ledger.account.payments import Payments
from ledger.account.repairs import Repairs
from ledger.account.state import AccountStatus
from ledger.credits import Credit
from ledger.invoices import Invoice
from ledger.meta import EventMeta
from ledger.methods import PaymentMethod
from ledger.payments import PaymentAttempt
from ledger.profile import BillingProfile
from ledger.subscriptions import Subscription


class Account(Identity, PaymentMethods, Payments, BadDebt, Repairs, Aggregate):
    TOPIC = "ledger.account:Account"

    class Created(Aggregate.Created):
        """Never recorded (an account is created by `Opened`); declared only because an
        aggregate with a pinned topic needs one on every event class it has."""

        TOPIC = "ledger.account:Account.Created"

    class Opened(Aggregate.Created):
        TOPIC = "ledger.account:Account.Opened"
        class_version = 3
        name: str
        email: str
        country: str
        currency: str
        tax_id: str | None
        meta: EventMeta

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["tax_id"] = None

        @staticmethod
        def upcast_v2_v3(_: dict[str, Any]) -> None:
            """v3: name, email and tax id stored and published sealed with the account's data key
            (ledger/personal.py); a v2 event stored in clear reads as it was."""

    @event(Opened)
    def __init__(
        self,
        id: UUID,
        name: str,
        email: str,
        country: str,
        currency: str,
        tax_id: str | None,
        meta: EventMeta,
    ):
        self.profile = BillingProfile(name, email, country, currency, tax_id)
        self.opened_with = self.profile
        self._status = AccountStatus.OPEN.value
        self.opened_at: datetime = meta.occurred_at
        self.closed_at: datetime | None = None
        self.currency_locked = False
        self.provider_customers: dict[str, str] = {}
        self.methods: dict[str, PaymentMethod] = {}
        self.default_method_id: str | None = None
        self.method_seq = 0
        self.subscriptions: dict[str, Subscription] = {}
        self.invoices: dict[str, Invoice] = {}
        self.invoice_seq = 0
        self.attempts: dict[str, PaymentAttempt] = {}
        self.credits: dict[str, Credit] = {}
        self.refund_ids: dict[str, str] = {}  # refund id -> attempt id
        self.commands: dict[str, int] = {}  # command id -> version it reached
        self.remember_command(meta, 1)

    @classmethod
    def open(cls, account_id: UUID, profile: BillingProfile, meta: EventMeta) -> Account:
        return cls(id=account_id, meta=meta, **profile.as_dict())


# Stored topics name these two as nested in Account, where they were defined before the
# split: they resolve by attribute too, even before `ledger.account.registry` registered
# them (eventsourcing imports `ledger.account`, then looks the name up on `Account`).
Account.ProfileUpdated = ProfileUpdated  # type: ignore[attr-defined]
Account.Closed = Closed  # type: ignore[attr-defined]
