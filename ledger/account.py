"""The billing account: one event stream per account holds everything whose invariants hold
together (identity, payment methods, subscriptions, invoices, payments, credits, bad debt).

Methods decide (check, then trigger events); events change state (`apply`). Derived facts
(collection path, bad debt, receivable) are computed from state, never stored.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from ledger import events as ev
from ledger.credits import Credit, CreditNotFound, CreditStatus, allocate
from ledger.errors import (
    AccountClosed,
    AccountNotSettled,
    BadDebtBlocked,
    CurrencyLocked,
    NothingToChange,
    ProviderCustomerNotLinked,
    ReasonRequired,
    SupportOnly,
)
from ledger.invoices import (
    InvalidTransition,
    Invoice,
    InvoiceNotFound,
    InvoiceStatus,
    LineItem,
    invoice_number,
)
from ledger.journal import JournalEntry
from ledger.journal import LedgerAccount as L
from ledger.meta import ActorKind, EventMeta
from ledger.methods import (
    CollectionPath,
    InvalidMethod,
    MethodAlreadyAdded,
    MethodKind,
    MethodNotFound,
    MethodNotUsable,
    PaymentMethod,
    VaultPath,
    check_card,
    collection_path,
)
from ledger.money import CurrencyMismatch, InvalidAmount, Money
from ledger.payments import (
    AUTHENTICATION_NOT_COMPLETED,
    ActionNotExpired,
    ActionPolicy,
    AttemptInFlight,
    AttemptNotFound,
    AttemptPurpose,
    PaymentAttempt,
    Processor,
    failure_kind,
)
from ledger.profile import BillingProfile
from ledger.subscriptions import (
    Plan,
    PlanMismatch,
    SamePlan,
    Subscription,
    SubscriptionNotActive,
    SubscriptionNotFound,
    add_months,
    period_line,
    proration_lines,
)

PAYPAL_DAYS_UNTIL_DUE = 7
REMEMBERED_COMMANDS = 500  # command ids kept for idempotent repeats (newest win)


class AccountStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Account(Aggregate):
    class Opened(Aggregate.Created):
        class_version = 2
        name: str
        email: str
        country: str
        currency: str
        tax_id: str | None
        meta: EventMeta

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["tax_id"] = None

    class ProfileUpdated(Aggregate.Event):
        class_version = 2
        name: str
        email: str
        country: str
        currency: str
        tax_id: str | None
        meta: EventMeta

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["tax_id"] = None

    class Closed(Aggregate.Event):
        meta: EventMeta

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
        # Kept as a plain string: snapshots store JSON, which has no enums.
        return AccountStatus(self._status)

    @property
    def collection_path(self) -> CollectionPath:
        return collection_path(self.methods, self.default_method_id)

    @property
    def bad_debt(self) -> bool:
        return any(i.status is InvoiceStatus.UNCOLLECTIBLE for i in self.invoices.values())

    @property
    def lifting_bad_debt(self) -> bool:
        """A PayBadDebt payment is in flight: repairs must not touch the account."""
        return any(
            a.in_flight and a.purpose is AttemptPurpose.BAD_DEBT for a in self.attempts.values()
        )

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

    # --- identity -----------------------------------------------------------------------

    @classmethod
    def open(cls, account_id: UUID, profile: BillingProfile, meta: EventMeta) -> Account:
        return cls(id=account_id, meta=meta, **profile.as_dict())

    def update_profile(self, profile: BillingProfile, meta: EventMeta) -> None:
        self._require_open()
        if profile == self.profile:
            raise NothingToChange()
        changes_currency = profile.currency != self.profile.currency
        if changes_currency and (self.currency_locked or self.credit_balance.is_positive):
            raise CurrencyLocked("invoices were finalized or credit is held in this currency")
        self._profile_updated(meta=meta, **profile.as_dict())

    def close(self, meta: EventMeta) -> None:
        self._require_open()
        if self.receivable.is_positive or any(s.active for s in self.subscriptions.values()):
            raise AccountNotSettled()
        if self.credit_balance.is_positive:
            raise AccountNotSettled("revoke the remaining credit first")
        self._closed(meta)

    @event(ProfileUpdated)
    def _profile_updated(
        self,
        name: str,
        email: str,
        country: str,
        currency: str,
        tax_id: str | None,
        meta: EventMeta,
    ) -> None:
        self.profile = BillingProfile(name, email, country, currency, tax_id)
        self.remember_command(meta, self.version + 1)

    @event(Closed)
    def _closed(self, meta: EventMeta) -> None:
        self._status = AccountStatus.CLOSED.value
        self.closed_at = meta.occurred_at
        self.remember_command(meta, self.version + 1)

    def request_recompute(self, projections: list[str], meta: EventMeta) -> None:
        """Records that support recomputes this account's read models (closed accounts too)."""
        if meta.actor.kind is not ActorKind.SUPPORT:
            raise SupportOnly("recomputing an account is a support action")
        self.trigger_event(ev.AccountRecomputeRequested, projections=list(projections), meta=meta)

    def record_repair(
        self, repair: str, processor: Processor, subject: str, detail: str, meta: EventMeta
    ) -> None:
        """Records a reconciliation repair (support, with a reason; closed accounts too)."""
        _require_repair_meta(meta)
        self.trigger_event(
            ev.ReconciliationRepaired,
            repair=repair,
            processor=processor.value,
            subject=subject,
            detail=detail,
            meta=meta,
        )

    def start_repair(
        self, repair: str, processor: Processor, subject: str, meta: EventMeta
    ) -> None:
        """Records that a repair is about to act at the processor (before it asks)."""
        _require_repair_meta(meta)
        self.trigger_event(
            ev.ReconciliationRepairStarted,
            repair=repair,
            processor=processor.value,
            subject=subject,
            meta=meta,
        )

    def link_provider_customer(
        self, processor: Processor, customer_id: str, meta: EventMeta
    ) -> None:
        self._require_open()
        if self.provider_customers.get(processor.value) == customer_id:
            raise NothingToChange()
        self.trigger_event(
            ev.ProviderCustomerLinked, processor=processor.value, customer_id=customer_id, meta=meta
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
            ev.ProviderCustomerSynced,
            processor=processor.value,
            customer_id=customer_id,
            name=name,
            email=email,
            meta=meta,
        )

    # --- payment methods ----------------------------------------------------------------

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
        self.trigger_event(
            ev.PaymentMethodAdded, method=method, make_default=make_default, meta=meta
        )

    def set_default_method(self, method_id: str, meta: EventMeta) -> None:
        self._require_open()
        self._usable_method(method_id)
        if self.default_method_id == method_id:
            raise NothingToChange()
        self.trigger_event(ev.DefaultPaymentMethodSet, method_id=method_id, meta=meta)

    def remove_method(self, method_id: str, meta: EventMeta) -> None:
        self._require_open()
        self._method(method_id)
        if self.methods[method_id].state.value == "removed":
            raise MethodNotUsable()
        self._refuse_if_method_in_flight(method_id)
        self.trigger_event(ev.PaymentMethodRemoved, method_id=method_id, meta=meta)

    def expire_method(self, method_id: str, meta: EventMeta) -> None:
        self._require_open()
        self._usable_method(method_id)
        self.trigger_event(ev.PaymentMethodExpired, method_id=method_id, meta=meta)

    def revoke_method(self, method_id: str, meta: EventMeta) -> None:
        self._require_open()
        method = self._usable_method(method_id)
        if method.kind is not MethodKind.PAYPAL:
            raise InvalidMethod("only PayPal billing agreements are revoked by the customer")
        self.trigger_event(ev.PaymentMethodRevoked, method_id=method_id, meta=meta)

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
            ev.PaymentMethodTokenMigrated,
            method_id=method_id,
            old_ref=method.processor_ref,
            new_ref=new_ref,
            billing_agreement_id=billing_agreement_id,
            meta=meta,
        )

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

    def _refuse_if_method_in_flight(self, method_id: str) -> None:
        if any(a.in_flight and a.method_id == method_id for a in self.attempts.values()):
            raise AttemptInFlight("a payment with this method is in flight")

    # --- subscriptions and invoices -----------------------------------------------------

    def subscribe(
        self, subscription_id: str, plan: Plan, invoice_id: str, on_session: bool, meta: EventMeta
    ) -> None:
        self._require_can_buy(plan.price)
        if on_session:
            self._require_default_method()
        if subscription_id in self.subscriptions:
            raise NothingToChange(f"subscription {subscription_id} exists")
        self._require_new_invoice(invoice_id)
        start = meta.occurred_at
        end = add_months(start, plan.interval_months)
        sub = Subscription(subscription_id, plan.plan_id, start, end, anchor_day=start.day)
        self.trigger_event(ev.Subscribed, subscription=sub, meta=meta)
        line = period_line(plan, subscription_id, sub.period_start, sub.period_end)
        self._invoice(
            invoice_id, (line,), meta, on_session_change=("subscribe" if on_session else None)
        )

    def change_plan(
        self,
        subscription_id: str,
        old: Plan,
        new: Plan,
        invoice_id: str,
        meta: EventMeta,
        on_session: bool = False,
    ) -> Money:
        """Moves to `new` now; charges (or credits) the rest of the period. Returns the net."""
        sub = self._active_subscription(subscription_id)
        if sub.plan_id == new.plan_id:
            raise SamePlan()
        _require_plan_of(sub, old)
        self._require_can_buy(new.price)
        if on_session:
            self._require_default_method()
        self._require_new_invoice(invoice_id)
        if f"{invoice_id}-credit" in self.credits:
            raise NothingToChange(f"credit {invoice_id}-credit exists")
        credit_line, charge_line = proration_lines(old, new, sub, meta.occurred_at)
        net = credit_line.amount + charge_line.amount
        changed = replace(sub, plan_id=new.plan_id)
        self.trigger_event(
            ev.SubscriptionChanged, subscription=changed, change=f"plan:{old.plan_id}", meta=meta
        )
        if net.is_positive:
            self._invoice(
                invoice_id,
                (credit_line, charge_line),
                meta,
                on_session_change=f"plan:{old.plan_id}>{new.plan_id}" if on_session else None,
            )
        elif net.amount < 0:
            self._grant_credit(f"{invoice_id}-credit", -net, None, meta)
        return net

    def cancel_subscription(
        self, subscription_id: str, at_period_end: bool, meta: EventMeta
    ) -> None:
        sub = self._active_subscription(subscription_id)
        if at_period_end:
            if sub.cancel_at_period_end:
                raise NothingToChange()
            new = replace(sub, cancel_at_period_end=True)
            self.trigger_event(
                ev.SubscriptionChanged, subscription=new, change="cancel_scheduled", meta=meta
            )
        else:
            self.trigger_event(
                ev.SubscriptionChanged,
                subscription=sub.canceled(meta.occurred_at),
                change="canceled",
                meta=meta,
            )

    def renew(self, subscription_id: str, plan: Plan, invoice_id: str, meta: EventMeta) -> bool:
        """Renews a subscription whose period ended (or ends it, if so scheduled). Returns
        whether an invoice was issued."""
        sub = self._active_subscription(subscription_id)
        if sub.period_end > meta.occurred_at:
            return False
        if sub.cancel_at_period_end:
            ended = sub.canceled(sub.period_end)
            self.trigger_event(
                ev.SubscriptionChanged, subscription=ended, change="canceled", meta=meta
            )
            return False
        _require_plan_of(sub, plan)
        self._require_new_invoice(invoice_id)
        renewed = sub.renewed(plan)
        self.trigger_event(
            ev.SubscriptionChanged, subscription=renewed, change="renewed", meta=meta
        )
        line = period_line(plan, subscription_id, renewed.period_start, renewed.period_end)
        self._invoice(invoice_id, (line,), meta, on_session_change=None)
        return True

    def _invoice(
        self,
        invoice_id: str,
        lines: tuple[LineItem, ...],
        meta: EventMeta,
        on_session_change: str | None,
    ) -> None:
        self._require_new_invoice(invoice_id)
        draft = Invoice(
            invoice_id,
            self.profile.currency,
            lines,
            meta.occurred_at,
            on_session_change=on_session_change,
        )
        self.trigger_event(ev.InvoiceDrafted, invoice=draft, meta=meta)
        self._finalize(invoice_id, meta)

    def _finalize(self, invoice_id: str, meta: EventMeta) -> None:
        inv = self._invoice_of(invoice_id)
        credits_used = allocate(self.credits.values(), inv.total, meta.occurred_at)
        credit = Money(sum(credits_used.values()), inv.currency)
        send_invoice = self.collection_path is CollectionPath.PAYPAL_SEND_INVOICE
        # Charged-automatically invoices have no due date (as at Stripe): they are collected
        # at once, and dunning (not a date) drives them after a failed collection.
        due_at = meta.occurred_at + timedelta(days=PAYPAL_DAYS_UNTIL_DUE) if send_invoice else None
        journal = JournalEntry.of(
            (L.RECEIVABLE, L.REVENUE, inv.total),
            (L.CUSTOMER_CREDIT, L.RECEIVABLE, credit),
        )
        self.trigger_event(
            ev.InvoiceFinalized,
            invoice_id=invoice_id,
            number=invoice_number(self.number_prefix, self.invoice_seq + 1),
            due_at=due_at,
            credits_used=credits_used,
            journal=journal,
            meta=meta,
        )
        if not self.invoices[invoice_id].amount_due.is_positive:
            self.trigger_event(ev.InvoiceCoveredByCredit, invoice_id=invoice_id, meta=meta)

    def mark_uncollectible(self, invoice_id: str, meta: EventMeta) -> None:
        inv = self._invoice_of(invoice_id)
        self._refuse_if_invoice_in_flight(invoice_id)
        inv.marked_uncollectible(meta.occurred_at)  # raises if not allowed
        self.trigger_event(ev.InvoiceMarkedUncollectible, invoice_id=invoice_id, meta=meta)

    def void_invoice(self, invoice_id: str, meta: EventMeta) -> None:
        """Voids an open invoice (reversed, credits restored), or writes off an uncollectible
        one (bad-debt expense; support only, with the reason on the event)."""
        inv = self._invoice_of(invoice_id)
        self._refuse_if_invoice_in_flight(invoice_id)
        inv.voided(meta.occurred_at)  # raises if not allowed
        if inv.status is InvoiceStatus.UNCOLLECTIBLE:
            if meta.actor.kind is not ActorKind.SUPPORT:
                raise SupportOnly("writing off bad debt is a support action")
            journal = JournalEntry.of((L.BAD_DEBT_EXPENSE, L.RECEIVABLE, inv.amount_due))
            restored: dict[str, int] = {}
        else:
            # Credit goes back to the credits it came from while they are active; the share
            # of a credit revoked or expired since lapses (as if it had been taken back).
            used = inv.credits_used or {}
            restored = {cid: n for cid, n in used.items() if self.credits[cid].active}
            back = Money(sum(restored.values()), inv.currency)
            lapsed = Money(sum(used.values()), inv.currency) - back
            journal = JournalEntry.of(
                (L.REVENUE, L.RECEIVABLE, inv.total),
                (L.RECEIVABLE, L.CUSTOMER_CREDIT, back),
                (L.RECEIVABLE, L.CREDITS_GRANTED, lapsed),
            )
        self.trigger_event(
            ev.InvoiceVoided,
            invoice_id=invoice_id,
            credits_restored=restored,
            journal=journal,
            meta=meta,
        )

    def _require_new_invoice(self, invoice_id: str) -> None:
        if invoice_id in self.invoices:
            raise NothingToChange(f"invoice {invoice_id} exists")

    def _invoice_of(self, invoice_id: str) -> Invoice:
        try:
            return self.invoices[invoice_id]
        except KeyError:
            raise InvoiceNotFound() from None

    def _refuse_if_invoice_in_flight(self, invoice_id: str) -> None:
        if any(a.in_flight and a.invoice_id == invoice_id for a in self.attempts.values()):
            raise AttemptInFlight()

    # --- payments -----------------------------------------------------------------------

    def start_attempt(
        self,
        attempt_id: str,
        invoice_id: str,
        method_id: str,
        purpose: AttemptPurpose,
        meta: EventMeta,
    ) -> PaymentAttempt:
        if attempt_id in self.attempts:
            return self.attempts[attempt_id]  # the same request again: same attempt
        inv = self._invoice_of(invoice_id)
        wanted = (
            InvoiceStatus.UNCOLLECTIBLE
            if purpose is AttemptPurpose.BAD_DEBT
            else InvoiceStatus.OPEN
        )
        if inv.status is not wanted:
            raise InvalidTransition(f"invoice is {inv.status}, this payment needs it {wanted}")
        self._refuse_if_invoice_in_flight(invoice_id)
        method = self._usable_method(method_id)
        processor = Processor.BRAINTREE if method.kind is MethodKind.PAYPAL else Processor.STRIPE
        attempt = PaymentAttempt(
            attempt_id, invoice_id, method_id, processor, inv.amount_due, purpose, meta.occurred_at
        )
        self.trigger_event(ev.PaymentAttemptStarted, attempt=attempt, meta=meta)
        return attempt

    def record_success(self, attempt_id: str, processor_payment_id: str, meta: EventMeta) -> None:
        attempt = self._attempt(attempt_id)
        attempt.succeeded(meta.occurred_at, processor_payment_id)  # raises if settled
        journal = JournalEntry.of((_cash(attempt.processor), L.RECEIVABLE, attempt.amount))
        self.trigger_event(
            ev.PaymentSucceeded,
            attempt_id=attempt_id,
            processor_payment_id=processor_payment_id,
            journal=journal,
            meta=meta,
        )

    def record_action_required(
        self, attempt_id: str, processor_payment_id: str, policy: ActionPolicy, meta: EventMeta
    ) -> None:
        """The processor asks the customer to authenticate: the attempt waits, still in
        flight, until its outcome arrives or the policy's wait for its purpose expires."""
        attempt = self._attempt(attempt_id)
        expires_at = policy.expires_at(attempt.purpose, meta.occurred_at)
        attempt.action_required(processor_payment_id, expires_at)  # raises unless pending
        self.trigger_event(
            ev.PaymentActionRequired,
            attempt_id=attempt_id,
            processor_payment_id=processor_payment_id,
            expires_at=expires_at,
            meta=meta,
        )

    def expire_action(self, attempt_id: str, meta: EventMeta) -> None:
        """An attempt waited for the customer past its expiry (the caller has cancelled it at
        the processor first): the soft failure `authentication_not_completed`, with the
        usual consequences (on-session: void and roll back; off-session: dunning goes on)."""
        if not self._attempt(attempt_id).action_expired(meta.occurred_at):
            raise ActionNotExpired(attempt_id)
        self.record_failure(attempt_id, AUTHENTICATION_NOT_COMPLETED, meta)

    def record_failure(self, attempt_id: str, decline_code: str, meta: EventMeta) -> None:
        """A failed on-session payment voids its invoice and rolls back what it paid for:
        only off-session collection enters dunning."""
        attempt = self._attempt(attempt_id)
        attempt.failed(meta.occurred_at, decline_code)  # raises if settled
        self.trigger_event(
            ev.PaymentFailed,
            attempt_id=attempt_id,
            decline_code=decline_code,
            failure=failure_kind(decline_code),
            meta=meta,
        )
        invoice = self.invoices[attempt.invoice_id]
        if attempt.purpose is AttemptPurpose.ON_SESSION and invoice.on_session_change:
            # Only an invoice for an on-session change is voided and rolled back; any other
            # invoice (a renewal the customer tried to pay) stays owed and in dunning.
            self._roll_back_on_session(attempt.invoice_id, meta)

    def _roll_back_on_session(self, invoice_id: str, meta: EventMeta) -> None:
        inv = self.invoices[invoice_id]
        change = inv.on_session_change
        self.void_invoice(invoice_id, meta)
        sub_id = next((line.subscription_id for line in inv.lines if line.subscription_id), None)
        if change is None or sub_id is None:
            return
        sub = self.subscriptions[sub_id]
        if change == "subscribe":
            if not sub.active:
                return  # already canceled meanwhile: keep its own cancellation time
            rolled = sub.canceled(meta.occurred_at)
        else:
            old_plan, _, new_plan = change.removeprefix("plan:").partition(">")
            if sub.plan_id != new_plan:
                return  # the plan changed again since: that later change stands
            # Only the plan goes back: a cancellation made meanwhile stands.
            rolled = replace(sub, plan_id=old_plan)
        self.trigger_event(
            ev.SubscriptionChanged, subscription=rolled, change="rolled_back", meta=meta
        )

    def pay_out_of_band(
        self, invoice_id: str, processor: Processor, reference: str, meta: EventMeta
    ) -> None:
        inv = self._invoice_of(invoice_id)
        self._refuse_if_invoice_in_flight(invoice_id)
        inv.paid(meta.occurred_at)  # raises if not allowed
        if inv.status is InvoiceStatus.UNCOLLECTIBLE and meta.actor.kind is not ActorKind.SUPPORT:
            raise SupportOnly("bad debt is paid through PayBadDebt, or recorded by support")
        journal = JournalEntry.of((_cash(processor), L.RECEIVABLE, inv.amount_due))
        self.trigger_event(
            ev.InvoicePaidOutOfBand,
            invoice_id=invoice_id,
            processor=processor.value,
            reference=reference,
            journal=journal,
            meta=meta,
        )

    def refund(self, attempt_id: str, refund_id: str, amount: Money, meta: EventMeta) -> None:
        attempt = self._attempt(attempt_id)
        if refund_id in self.refund_ids:
            raise NothingToChange(f"refund {refund_id} already recorded")
        attempt.refund(amount)  # raises if too large
        journal = JournalEntry.of((L.REFUNDS, _cash(attempt.processor), amount))
        self.trigger_event(
            ev.RefundIssued,
            attempt_id=attempt_id,
            refund_id=refund_id,
            amount=amount.amount,
            journal=journal,
            meta=meta,
        )

    def open_dispute(
        self, attempt_id: str, dispute_id: str, amount: Money, meta: EventMeta
    ) -> None:
        attempt = self._attempt(attempt_id)
        attempt.dispute_opened(amount)  # raises if not allowed
        journal = JournalEntry.of((L.DISPUTED_FUNDS, _cash(attempt.processor), amount))
        self.trigger_event(
            ev.DisputeOpened,
            attempt_id=attempt_id,
            dispute_id=dispute_id,
            amount=amount.amount,
            journal=journal,
            meta=meta,
        )

    def close_dispute(self, attempt_id: str, won: bool, meta: EventMeta) -> None:
        attempt = self._attempt(attempt_id)
        attempt.dispute_closed(won)  # raises if not allowed
        amount = Money(attempt.disputed_amount, attempt.amount.currency)
        move = (
            (_cash(attempt.processor), L.DISPUTED_FUNDS, amount)
            if won
            else (L.DISPUTE_LOSSES, L.DISPUTED_FUNDS, amount)
        )
        self.trigger_event(
            ev.DisputeClosed,
            attempt_id=attempt_id,
            won=won,
            journal=JournalEntry.of(move),
            meta=meta,
        )

    def _attempt(self, attempt_id: str) -> PaymentAttempt:
        try:
            return self.attempts[attempt_id]
        except KeyError:
            raise AttemptNotFound() from None

    # --- credits ------------------------------------------------------------------------

    def grant_credit(
        self, credit_id: str, amount: Money, expires_at: datetime | None, meta: EventMeta
    ) -> None:
        if meta.actor.kind is not ActorKind.SUPPORT:
            raise SupportOnly("credits are granted by support")
        self._require_open()
        if credit_id in self.credits:
            raise NothingToChange(f"credit {credit_id} exists")
        if amount.currency != self.profile.currency:
            raise CurrencyMismatch(
                f"credit in {amount.currency}, account in {self.profile.currency}"
            )
        amount.require_single_amount("a credit")
        if expires_at is not None and expires_at <= meta.occurred_at:
            raise InvalidAmount("a credit cannot expire in the past")
        self._grant_credit(credit_id, amount, expires_at, meta)

    def _grant_credit(
        self, credit_id: str, amount: Money, expires_at: datetime | None, meta: EventMeta
    ) -> None:
        credit = Credit(credit_id, amount, amount.amount, meta.occurred_at, expires_at)
        journal = JournalEntry.of((L.CREDITS_GRANTED, L.CUSTOMER_CREDIT, amount))
        self.trigger_event(ev.CreditGranted, credit=credit, journal=journal, meta=meta)

    def revoke_credit(self, credit_id: str, meta: EventMeta) -> None:
        if meta.actor.kind is not ActorKind.SUPPORT:
            raise SupportOnly("credits are revoked by support")
        self._close_credit(credit_id, CreditStatus.REVOKED, meta)

    def expire_credits(self, meta: EventMeta) -> list[str]:
        due = [c.credit_id for c in self.credits.values() if c.expired_by(meta.occurred_at)]
        for credit_id in due:
            self._close_credit(credit_id, CreditStatus.EXPIRED, meta)
        return due

    def _close_credit(self, credit_id: str, status: CreditStatus, meta: EventMeta) -> None:
        try:
            credit = self.credits[credit_id]
        except KeyError:
            raise CreditNotFound() from None
        credit.closed(status)  # raises if not active
        journal = JournalEntry.of((L.CUSTOMER_CREDIT, L.CREDITS_GRANTED, credit.available))
        self.trigger_event(
            ev.CreditClosed, credit_id=credit_id, status=status, journal=journal, meta=meta
        )

    # --- guards -------------------------------------------------------------------------

    def _active_subscription(self, subscription_id: str) -> Subscription:
        self._require_open()
        try:
            sub = self.subscriptions[subscription_id]
        except KeyError:
            raise SubscriptionNotFound() from None
        if not sub.active:
            raise SubscriptionNotActive()
        return sub

    def _require_can_buy(self, price: Money) -> None:
        self._require_open()
        if self.bad_debt:
            raise BadDebtBlocked()
        if price.currency != self.profile.currency:
            raise CurrencyMismatch(f"plan in {price.currency}, account in {self.profile.currency}")

    def _require_default_method(self) -> None:
        """A customer paying now needs a method to pay with: refuse before anything is
        recorded, rather than leave an invoice that would drift into dunning."""
        default = self.methods.get(self.default_method_id or "")
        if default is None or not default.usable:
            raise MethodNotFound("add a usable payment method first")

    def _require_open(self) -> None:
        if self.status is AccountStatus.CLOSED:
            raise AccountClosed()


def _require_plan_of(sub: Subscription, plan: Plan) -> None:
    if plan.plan_id != sub.plan_id:
        raise PlanMismatch(f"the subscription is on {sub.plan_id}, not {plan.plan_id}")


def _cash(processor: Processor) -> L:
    return L.CASH_BRAINTREE if processor is Processor.BRAINTREE else L.CASH_STRIPE


def _require_repair_meta(meta: EventMeta) -> None:
    if meta.actor.kind is not ActorKind.SUPPORT:
        raise SupportOnly("reconciliation repairs are a support action")
    if not meta.reason:
        raise ReasonRequired("a reconciliation repair needs a reason")
