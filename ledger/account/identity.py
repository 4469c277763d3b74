"""Billing identity: the profile, closing the account, the processors' customers."""

from __future__ import annotations

from typing import Any

from ledger.account.state import AccountEvent, AccountState, AccountStatus
from ledger.errors import (
    AccountNotSettled,
    CurrencyLocked,
    NothingToChange,
    ProviderCustomerNotLinked,
)
from ledger.meta import EventMeta
from ledger.payments import Processor
from ledger.profile import BillingProfile


class ProfileUpdated(AccountEvent):
    TOPIC = "ledger.account:Account.ProfileUpdated"
    class_version = 2
    name: str
    email: str
    country: str
    currency: str
    tax_id: str | None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["tax_id"] = None

    def apply_to(self, account: Identity) -> None:
        account.profile = BillingProfile(
            self.name, self.email, self.country, self.currency, self.tax_id
        )


class Closed(AccountEvent):
    TOPIC = "ledger.account:Account.Closed"

    def apply_to(self, account: Identity) -> None:
        account._status = AccountStatus.CLOSED.value
        account.closed_at = self.meta.occurred_at


class ProviderCustomerLinked(AccountEvent):
    TOPIC = "ledger.events:ProviderCustomerLinked"
    processor: str
    customer_id: str

    def apply_to(self, account: Identity) -> None:
        account.provider_customers = {
            **account.provider_customers,
            self.processor: self.customer_id,
        }


class ProviderCustomerSynced(AccountEvent):
    """The ledger wrote these billing-identity fields to the processor's customer (or found
    them there already). The last synced values tell reconciliation who changed what: a
    customer that differs from them was edited at the processor."""

    TOPIC = "ledger.events:ProviderCustomerSynced"
    processor: str
    customer_id: str
    name: str
    email: str

    def apply_to(self, account: Identity) -> None:
        synced = {"customer_id": self.customer_id, "name": self.name, "email": self.email}
        account.provider_synced = {**account.provider_synced, self.processor: synced}


class Identity(AccountState):
    @property
    def provider_synced(self) -> dict[str, dict[str, str]]:
        """Processor -> the customer fields the ledger last wrote there. Kept in __dict__
        with a fallback: snapshots taken before ProviderCustomerSynced existed lack it."""
        synced: dict[str, dict[str, str]] = self.__dict__.get("_provider_synced", {})
        return synced

    @provider_synced.setter
    def provider_synced(self, value: dict[str, dict[str, str]]) -> None:
        self.__dict__["_provider_synced"] = value

    def update_profile(self, profile: BillingProfile, meta: EventMeta) -> None:
        self._require_open()
        if profile == self.profile:
            raise NothingToChange()
        changes_currency = profile.currency != self.profile.currency
        if changes_currency and (self.currency_locked or self.credit_balance.is_positive):
            raise CurrencyLocked("invoices were finalized or credit is held in this currency")
        self._profile_updated(meta=meta, **profile.as_dict())

    def _profile_updated(
        self,
        name: str,
        email: str,
        country: str,
        currency: str,
        tax_id: str | None,
        meta: EventMeta,
    ) -> None:
        self.trigger_event(
            ProfileUpdated,
            name=name,
            email=email,
            country=country,
            currency=currency,
            tax_id=tax_id,
            meta=meta,
        )

    def close(self, meta: EventMeta) -> None:
        self._require_open()
        if self.receivable.is_positive or any(s.active for s in self.subscriptions.values()):
            raise AccountNotSettled()
        if self.credit_balance.is_positive:
            raise AccountNotSettled("revoke the remaining credit first")
        self.trigger_event(Closed, meta=meta)

    def link_provider_customer(
        self, processor: Processor, customer_id: str, meta: EventMeta
    ) -> None:
        self._require_open()
        if self.provider_customers.get(processor.value) == customer_id:
            raise NothingToChange()
        self.trigger_event(
            ProviderCustomerLinked, processor=processor.value, customer_id=customer_id, meta=meta
        )

    def record_customer_sync(
        self, processor: Processor, customer_id: str, name: str, email: str, meta: EventMeta
    ) -> None:
        """Records that the processor's customer now holds these fields."""
        if self.provider_customers.get(processor.value) != customer_id:
            raise ProviderCustomerNotLinked(f"{customer_id} is not this account's customer")
        synced = {"customer_id": customer_id, "name": name, "email": email}
        if self.provider_synced.get(processor.value) == synced:
            raise NothingToChange()
        self.trigger_event(
            ProviderCustomerSynced,
            processor=processor.value,
            customer_id=customer_id,
            name=name,
            email=email,
            meta=meta,
        )
