"""Billing identity: the profile, closing the account, the processors' customers."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from ledger.account.state import AccountEvent, AccountState, AccountStatus
from ledger.errors import (
    AccountNotSettled,
    CurrencyLocked,
    NothingToChange,
    PersonalDataForgotten,
    ProviderCustomerNotLinked,
    SupportOnly,
)
from ledger.meta import ActorKind, EventMeta
from ledger.payments import Processor
from ledger.personal import ERASED, ERASED_EMAIL
from ledger.profile import BillingProfile


class ProfileUpdated(AccountEvent):
    TOPIC = "ledger.account:Account.ProfileUpdated"
    class_version = 3
    name: str
    email: str
    country: str
    currency: str
    tax_id: str | None

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["tax_id"] = None

    @staticmethod
    def upcast_v2_v3(_: dict[str, Any]) -> None:
        """v3: name, email and tax id stored and published sealed with the account's data key
        (ledger/personal.py); a v2 event stored in clear reads as it was."""

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
    class_version = 2
    processor: str
    customer_id: str
    name: str
    email: str

    @staticmethod
    def upcast_v1_v2(_: dict[str, Any]) -> None:
        """v2: name and email stored and published sealed with the account's data key
        (ledger/personal.py); a v1 event stored in clear reads as it was."""

    def apply_to(self, account: Identity) -> None:
        synced = {"customer_id": self.customer_id, "name": self.name, "email": self.email}
        account.provider_synced = {**account.provider_synced, self.processor: synced}


class AccountForgotten(AccountEvent):
    """The account's personal data is forgotten: the command that records this destroys
    the account's data key, so every personal field stored for it reads as erased from now
    on; the state holds the erased values at once. Money, invoices and their numbers stay."""

    TOPIC = "ledger.events:AccountForgotten"

    def apply_to(self, account: Identity) -> None:
        account.profile = account.profile.erased()
        account.opened_with = account.opened_with.erased()
        account.provider_synced = {
            p: {**synced, "name": ERASED, "email": ERASED_EMAIL}
            for p, synced in account.provider_synced.items()
        }
        account.methods = {
            k: replace(m, payer_email=ERASED_EMAIL) if m.payer_email else m
            for k, m in account.methods.items()
        }
        account.forgotten_at = self.meta.occurred_at


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

    @property
    def forgotten_at(self) -> datetime | None:
        """When the account's personal data was forgotten; None while it is not. Kept in
        __dict__ with a fallback: snapshots taken before forgetting existed lack it."""
        at: datetime | None = self.__dict__.get("_forgotten_at")
        return at

    @forgotten_at.setter
    def forgotten_at(self, value: datetime | None) -> None:
        self.__dict__["_forgotten_at"] = value

    def update_profile(self, profile: BillingProfile, meta: EventMeta) -> None:
        self._require_open()
        if self.forgotten_at is not None:
            raise PersonalDataForgotten()
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

    def forget(self, meta: EventMeta) -> None:
        """Records that the account's personal data is forgotten (once: a repeat changes
        nothing). Closed or open, the account keeps its money history. Support only."""
        if meta.actor.kind is not ActorKind.SUPPORT:
            raise SupportOnly("forgetting an account is a support action")
        if self.forgotten_at is not None:
            raise NothingToChange("the account's personal data is already forgotten")
        self.trigger_event(AccountForgotten, meta=meta)

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
