"""Payment methods: adding, the default, removing, expiry, revocation, token migration. The
collection path is derived from the default method (`AccountState.collection_path`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ledger.account.state import AccountEvent, AccountState
from ledger.errors import NothingToChange
from ledger.meta import EventMeta
from ledger.methods import (
    InvalidMethod,
    MethodAlreadyAdded,
    MethodKind,
    MethodNeeded,
    MethodNotUsable,
    MethodState,
    PaymentMethod,
    VaultPath,
    check_card,
    default_after_removal,
    needed,
)
from ledger.payments import AttemptInFlight


class PaymentMethodAdded(AccountEvent):
    TOPIC = "ledger.events:PaymentMethodAdded"
    class_version = 2
    method: PaymentMethod
    make_default: bool

    @staticmethod
    def upcast_v1_v2(_: dict[str, Any]) -> None:
        """v2: the PayPal payer email stored and published sealed with the account's data key
        (ledger/personal.py); a v1 event stored in clear reads as it was."""

    def apply_to(self, account: AccountState) -> None:
        account.methods = {**account.methods, self.method.method_id: self.method}
        account.method_seq = max(account.method_seq, self.method.added_seq)
        if self.make_default or account.default_method_id is None:
            account.default_method_id = self.method.method_id


class DefaultPaymentMethodSet(AccountEvent):
    TOPIC = "ledger.events:DefaultPaymentMethodSet"
    method_id: str

    def apply_to(self, account: AccountState) -> None:
        account.default_method_id = self.method_id


class _MethodStateChanged(AccountEvent):
    method_id: str
    new_state = MethodState.REMOVED

    def apply_to(self, account: AccountState) -> None:
        account.default_method_id = default_after_removal(
            account.methods, self.method_id, account.default_method_id
        )
        method = account.methods[self.method_id].with_state(self.new_state)
        account.methods = {**account.methods, self.method_id: method}


class PaymentMethodRemoved(_MethodStateChanged):
    TOPIC = "ledger.events:PaymentMethodRemoved"
    new_state = MethodState.REMOVED


class PaymentMethodExpired(_MethodStateChanged):
    TOPIC = "ledger.events:PaymentMethodExpired"
    new_state = MethodState.EXPIRED


class PaymentMethodRevoked(_MethodStateChanged):
    TOPIC = "ledger.events:PaymentMethodRevoked"
    new_state = MethodState.REVOKED


class PaymentMethodTokenMigrated(AccountEvent):
    TOPIC = "ledger.events:PaymentMethodTokenMigrated"
    method_id: str
    old_ref: str
    new_ref: str
    billing_agreement_id: str | None

    def apply_to(self, account: AccountState) -> None:
        method = replace(
            account.methods[self.method_id],
            processor_ref=self.new_ref,
            billing_agreement_id=self.billing_agreement_id,
            vault_path=VaultPath.BILLING_AGREEMENT,
        )
        account.methods = {**account.methods, self.method_id: method}


class PaymentMethods(AccountState):
    def add_card(
        self,
        method_id: str,
        processor_ref: str,
        brand: str,
        last4: str,
        exp_month: int,
        exp_year: int,
        make_default: bool,
        meta: EventMeta,
    ) -> None:
        check_card(brand, last4, exp_month, exp_year)
        method = PaymentMethod(
            method_id,
            MethodKind.CARD,
            processor_ref,
            self.method_seq + 1,
            brand=brand,
            last4=last4,
            exp_month=exp_month,
            exp_year=exp_year,
        )
        self._add_method(method, make_default, meta)

    def add_paypal(
        self,
        method_id: str,
        token: str,
        billing_agreement_id: str | None,
        payer_email: str,
        vault_path: VaultPath,
        make_default: bool,
        meta: EventMeta,
    ) -> None:
        if vault_path is VaultPath.BILLING_AGREEMENT and not billing_agreement_id:
            raise InvalidMethod("a billing agreement id is required")
        method = PaymentMethod(
            method_id,
            MethodKind.PAYPAL,
            token,
            self.method_seq + 1,
            billing_agreement_id=billing_agreement_id,
            payer_email=payer_email,
            vault_path=vault_path,
        )
        self._add_method(method, make_default, meta)

    def _add_method(self, method: PaymentMethod, make_default: bool, meta: EventMeta) -> None:
        self._require_open()
        if method.method_id in self.methods or any(
            m.processor_ref == method.processor_ref and m.usable for m in self.methods.values()
        ):
            raise MethodAlreadyAdded()
        self.trigger_event(PaymentMethodAdded, method=method, make_default=make_default, meta=meta)

    def set_default_method(self, method_id: str, meta: EventMeta) -> None:
        self._require_open()
        self._usable_method(method_id)
        if self.default_method_id == method_id:
            raise NothingToChange()
        self.trigger_event(DefaultPaymentMethodSet, method_id=method_id, meta=meta)

    def remove_method(
        self, method_id: str, meta: EventMeta, *, even_if_needed: bool = False
    ) -> None:
        """`even_if_needed`: a repair removing a method its processor no longer holds (it
        cannot be charged anyway)."""
        self._require_open()
        self._method(method_id)
        if self.methods[method_id].state.value == "removed":
            raise MethodNotUsable()
        self._refuse_if_method_in_flight(method_id)
        if not even_if_needed:
            self._refuse_if_method_needed(method_id)
        self.trigger_event(PaymentMethodRemoved, method_id=method_id, meta=meta)

    def expire_method(self, method_id: str, meta: EventMeta) -> None:
        self._require_open()
        self._usable_method(method_id)
        self.trigger_event(PaymentMethodExpired, method_id=method_id, meta=meta)

    def revoke_method(self, method_id: str, meta: EventMeta) -> None:
        self._require_open()
        method = self._usable_method(method_id)
        if method.kind is not MethodKind.PAYPAL:
            raise InvalidMethod("only PayPal billing agreements are revoked by the customer")
        self.trigger_event(PaymentMethodRevoked, method_id=method_id, meta=meta)

    def migrate_token(
        self, method_id: str, new_ref: str, billing_agreement_id: str, meta: EventMeta
    ) -> None:
        self._require_open()
        method = self._usable_method(method_id)
        if method.kind is not MethodKind.PAYPAL or method.vault_path is VaultPath.BILLING_AGREEMENT:
            raise NothingToChange("only legacy-vaulted PayPal methods are migrated")
        if any(m.processor_ref == new_ref for m in self.methods.values()):
            raise MethodAlreadyAdded("the new token is already on the account")
        self.trigger_event(
            PaymentMethodTokenMigrated,
            method_id=method_id,
            old_ref=method.processor_ref,
            new_ref=new_ref,
            billing_agreement_id=billing_agreement_id,
            meta=meta,
        )

    def _refuse_if_method_needed(self, method_id: str) -> None:
        renewing = any(s.active and not s.cancel_at_period_end for s in self.subscriptions.values())
        if needed(self.methods, method_id, renewing):
            raise MethodNeeded()

    def _refuse_if_method_in_flight(self, method_id: str) -> None:
        if any(a.in_flight and a.method_id == method_id for a in self.attempts.values()):
            raise AttemptInFlight("a payment with this method is in flight")
