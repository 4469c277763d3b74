"""What every concern of the account shares: its state (declared once, set by the events),
the base event, the idempotency memory, the facts derived from state that several concerns
read (status, receivable, credit, bad debt, collection path) and their common guards.

Each concern is a mixin over `AccountState` in its own module, with the events it records
beside the decisions that record them; `ledger.account.aggregate.Account` composes them
into the one aggregate of the one stream."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.credits import Credit
from ledger.errors import AccountClosed
from ledger.invoices import Invoice, InvoiceNotFound, InvoiceStatus
from ledger.journal import JournalEntry
from ledger.meta import EventMeta
from ledger.methods import (
    CollectionPath,
    MethodNotFound,
    MethodNotUsable,
    PaymentMethod,
    collection_path,
)
from ledger.money import Money
from ledger.payments import AttemptInFlight, AttemptNotFound, PaymentAttempt
from ledger.profile import BillingProfile
from ledger.subscriptions import Subscription

REMEMBERED_COMMANDS = 500  # command ids kept for idempotent repeats (newest win)


class AccountStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class AccountEvent(Aggregate.Event):
    """An event of the account stream: a fact with its audit `meta`. `apply_to` changes the
    state and decides nothing (the decision that records the event has checked)."""

    meta: EventMeta

    def apply(self, aggregate: Any) -> None:
        self.apply_to(aggregate)
        aggregate.remember_command(self.meta, self.originator_version)

    def apply_to(self, account: Any) -> None:
        raise NotImplementedError  # every concrete event says what it changes


class MoneyMoved(AccountEvent):
    """An event that moves money carries its balanced journal entry."""

    journal: JournalEntry


class AccountState:
    """The account's state and the reads and guards its concerns share. The attributes are
    set by `Account.__init__` (the opening) and by the events; names are part of the stored
    snapshots, so they never change."""

    profile: BillingProfile
    opened_with: BillingProfile
    _status: str  # a plain string: snapshots store JSON, which has no enums
    opened_at: datetime
    closed_at: datetime | None
    currency_locked: bool
    provider_customers: dict[str, str]
    methods: dict[str, PaymentMethod]
    default_method_id: str | None
    method_seq: int
    subscriptions: dict[str, Subscription]
    invoices: dict[str, Invoice]
    invoice_seq: int
    attempts: dict[str, PaymentAttempt]
    credits: dict[str, Credit]
    refund_ids: dict[str, str]  # refund id -> attempt id
    commands: dict[str, int]  # command id -> version it reached

    if TYPE_CHECKING:  # given by eventsourcing's Aggregate, which Account also derives from

        @property
        def id(self) -> UUID: ...

        version: int

        def trigger_event(self, event_class: type[Any], **kwargs: Any) -> None: ...

    # --- idempotency --------------------------------------------------------------------

    def remember_command(self, meta: EventMeta, version: int) -> None:
        """Keeps the last REMEMBERED_COMMANDS command ids (oldest first out), each with the
        version it brought the account to and the fingerprint of its request. A later event
        of the same command (a payment's outcome) moves its version on, not its age."""
        if meta.command_id is None:
            return
        key = str(meta.command_id)
        commands = {**self.commands, key: version}
        fingerprints = dict(self.command_fingerprints)
        if meta.fingerprint is not None:
            fingerprints[key] = meta.fingerprint
        while len(commands) > REMEMBERED_COMMANDS:
            oldest = next(iter(commands))
            del commands[oldest]
            fingerprints.pop(oldest, None)
        self.commands = commands
        self.command_fingerprints = fingerprints

    def version_after_command(self, command_id: UUID) -> int | None:
        """The version a command already brought this account to, if it ran here before."""
        return self.commands.get(str(command_id))

    @property
    def command_fingerprints(self) -> dict[str, str]:
        """Command id -> fingerprint of its request. Kept in __dict__ with a fallback:
        snapshots taken before fingerprints existed lack it (their commands then have none,
        and a repeat of one is answered as a replay)."""
        fingerprints: dict[str, str] = self.__dict__.get("_command_fingerprints", {})
        return fingerprints

    @command_fingerprints.setter
    def command_fingerprints(self, value: dict[str, str]) -> None:
        self.__dict__["_command_fingerprints"] = value

    def fingerprint_of_command(self, command_id: UUID) -> str | None:
        return self.command_fingerprints.get(str(command_id))

    # --- derived ------------------------------------------------------------------------

    @property
    def status(self) -> AccountStatus:
        return AccountStatus(self._status)

    @property
    def collection_path(self) -> CollectionPath:
        return collection_path(self.methods, self.default_method_id)

    @property
    def bad_debt(self) -> bool:
        return any(i.status is InvoiceStatus.UNCOLLECTIBLE for i in self.invoices.values())

    @property
    def receivable(self) -> Money:
        total = Money.zero(self.profile.currency)
        for inv in self.invoices.values():
            if inv.currency == total.currency:
                total = total + inv.outstanding
        return total

    @property
    def credit_balance(self) -> Money:
        total = Money.zero(self.profile.currency)
        for credit in self.credits.values():
            if credit.granted.currency == total.currency:
                total = total + credit.available
        return total

    @property
    def number_prefix(self) -> str:
        return self.id.hex[:8].upper()

    # --- guards -------------------------------------------------------------------------

    def _require_open(self) -> None:
        if self.status is AccountStatus.CLOSED:
            raise AccountClosed()

    def _invoice_of(self, invoice_id: str) -> Invoice:
        try:
            return self.invoices[invoice_id]
        except KeyError:
            raise InvoiceNotFound() from None

    def _refuse_if_invoice_in_flight(self, invoice_id: str) -> None:
        if any(a.in_flight and a.invoice_id == invoice_id for a in self.attempts.values()):
            raise AttemptInFlight()

    def _method(self, method_id: str) -> PaymentMethod:
        try:
            return self.methods[method_id]
        except KeyError:
            raise MethodNotFound() from None

    def _usable_method(self, method_id: str) -> PaymentMethod:
        method = self._method(method_id)
        if not method.usable:
            raise MethodNotUsable()
        return method

    def _attempt(self, attempt_id: str) -> PaymentAttempt:
        try:
            return self.attempts[attempt_id]
        except KeyError:
            raise AttemptNotFound() from None
