"""The billing account: one event stream per account holds everything whose invariants hold
together. This first slice covers the billing identity; payment methods, subscriptions,
invoices and bad debt join the same stream."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger.errors import AccountClosed, NothingToChange
from ledger.meta import EventMeta
from ledger.profile import BillingProfile


class AccountStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Account(Aggregate):
    class Opened(Aggregate.Created):
        name: str
        email: str
        country: str
        currency: str
        meta: EventMeta

    class ProfileUpdated(Aggregate.Event):
        name: str
        email: str
        country: str
        currency: str
        meta: EventMeta

    class Closed(Aggregate.Event):
        meta: EventMeta

    @event(Opened)
    def __init__(
        self, id: UUID, name: str, email: str, country: str, currency: str, meta: EventMeta
    ):
        self.profile = BillingProfile(name, email, country, currency)
        self._status = AccountStatus.OPEN.value
        self.opened_at: datetime = meta.occurred_at
        self.closed_at: datetime | None = None
        self.opened_with = self.profile

    @property
    def status(self) -> AccountStatus:
        # Kept as a plain string: snapshots store JSON, which has no enums.
        return AccountStatus(self._status)

    @classmethod
    def open(cls, account_id: UUID, profile: BillingProfile, meta: EventMeta) -> Account:
        return cls(id=account_id, meta=meta, **profile.as_dict())

    def update_profile(self, profile: BillingProfile, meta: EventMeta) -> None:
        self._require_open()
        if profile == self.profile:
            raise NothingToChange()
        self._profile_updated(meta=meta, **profile.as_dict())

    def close(self, meta: EventMeta) -> None:
        self._require_open()
        self._closed(meta)

    @event(ProfileUpdated)
    def _profile_updated(
        self, name: str, email: str, country: str, currency: str, meta: EventMeta
    ) -> None:
        self.profile = BillingProfile(name, email, country, currency)

    @event(Closed)
    def _closed(self, meta: EventMeta) -> None:
        self._status = AccountStatus.CLOSED.value
        self.closed_at = meta.occurred_at

    def _require_open(self) -> None:
        if self.status is AccountStatus.CLOSED:
            raise AccountClosed()
