"""Billing routes (payment methods, subscriptions, invoices, payments, credits, bad debt), in
groups a surface offers or not (adapters/http/surfaces.py). Every route takes an
Idempotency-Key and scope `billing:write` (the run: `billing:run`); support writes carry a
reason (the domain refuses a support action without one); support-only actions are refused
for others by the domain."""

from collections.abc import Callable
from typing import Any, Self
from uuid import UUID

from fastapi import Depends
from pydantic import BaseModel, ConfigDict, Field

from adapters.http.surface import Call, Feature, HttpSurface, Route
from commands import bad_debt, billing, credits, dunning, methods, refunds, vaulting
from commands.base import CommandResult
from commands.billing import BillingResult
from commands.collect import PaymentOutcome
from commands.errors import CommandIdRequired
from commands.models import (
    AddCard,
    AddPayPal,
    BadDebtFields,
    CancelFields,
    CancelSubscription,
    CardFields,
    ChangeFields,
    ChangePlan,
    CreditFields,
    GrantCredit,
    LinkProviderCustomer,
    MarkUncollectible,
    MethodId,
    MigrateToken,
    NewTokenFields,
    OutOfBandFields,
    PayBadDebt,
    PayFields,
    PayInvoice,
    PayPalFields,
    PlanFields,
    ProviderCustomerFields,
    Reason,
    RecordOutOfBandPayment,
    RefundFields,
    RefundPayment,
    RemoveMethod,
    RevokeCredit,
    RunBilling,
    SetDefaultMethod,
    Subscribe,
    VoidInvoice,
    WriteOffBadDebt,
)

# Path ids have the commands' own type, so FastAPI refuses what the command would (a 422
# naming the parameter, never a 500 from building the command).
EntityId = MethodId


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason | None = Field(
        default=None,
        description="why, for the audit trail: required from support; a customer's request"
        " with a reason is refused (customer_reason_refused)",
    )

    def command_fields(self) -> dict[str, Any]:
        """What the body gives its command: all but the reason (the context's)."""
        return self.model_dump(exclude={"reason"})


# A body is its command's own fields (commands/models.py), with the surface's reason.
class CardBody(Body, CardFields):
    """The body of AddCard: the command's own fields."""


class PayPalBody(Body, PayPalFields):
    """The body of AddPayPal: the command's own fields."""


class SubscribeBody(Body, PlanFields):
    """The body of Subscribe: the command's own fields."""


class PlanBody(Body, ChangeFields):
    """The body of ChangePlan: the command's own fields."""


class CancelBody(Body, CancelFields):
    """The body of CancelSubscription: the command's own fields."""


class PayBody(Body, PayFields):
    """The body of PayInvoice: the command's own fields."""


class BadDebtBody(Body, BadDebtFields):
    """The body of PayBadDebt: the command's own fields."""


class CreditBody(Body, CreditFields):
    """The body of GrantCredit: the command's own fields."""


class RefundBody(Body, RefundFields):
    """The body of RefundPayment: the command's own fields."""


class ProviderCustomerBody(Body, ProviderCustomerFields):
    """The body of LinkProviderCustomer: the command's own fields."""


class OutOfBandBody(Body, OutOfBandFields):
    """The body of RecordOutOfBandPayment: the command's own fields."""


class MigrateTokenBody(Body, NewTokenFields):
    """The body of MigrateToken: the command's own fields."""


class RunBody(Body, RunBilling):
    """The body of RunBilling: the command's own fields."""


class Payment(BaseModel):
    attempt_id: str
    invoice_id: str
    status: str = Field(
        description="pending, requires_action (the customer must authenticate), succeeded or failed"
    )
    decline_code: str | None
    client_secret: str | None = Field(
        default=None,
        description="with requires_action only: hand it to Stripe.js (handleNextAction) in"
        " the customer's browser; the webhook or the janitor records the outcome",
    )


class BillingWritten(BaseModel):
    account_id: UUID
    version: int
    position: int | None
    replayed: bool
    subscription_id: str | None = None
    invoice_id: str | None = None
    payment: Payment | None = None

    @classmethod
    def of(cls, result: CommandResult, **extra: Any) -> Self:
        """Where a billing write's events landed, and what else it answers."""
        return cls(
            account_id=result.account_id,
            version=result.version,
            position=result.position,
            replayed=result.replayed,
            **extra,
        )


class BadDebtPaid(BaseModel):
    account_id: UUID
    payments: list[Payment]
    recovered: list[str]
    still_uncollectible: list[str]
    bad_debt: bool
    version: int = Field(description="the account's stream version after the payments")


class Reached(BaseModel):
    version: int = Field(description="the account's stream version after the run's writes")
    position: int | None = Field(
        description="global position of the last event the run recorded on it (null: none)"
    )


class RunSummary(BaseModel):
    accounts: int
    renewed: int
    credits_expired: int
    attempts: list[Payment]
    exhausted: list[str]
    errors: dict[str, str]
    reached: dict[str, Reached] = Field(
        description="per account id, where the run left it: read with"
        " `min_version=<version>` to see the run's effects (an account whose run failed"
        " before any write is only in `errors`)"
    )


def _payment(outcome: PaymentOutcome | None) -> Payment | None:
    if outcome is None:
        return None
    return Payment(
        attempt_id=outcome.attempt_id,
        invoice_id=outcome.invoice_id,
        status=outcome.status.value,
        decline_code=outcome.decline_code,
        client_secret=outcome.client_secret,
    )


def _from_billing(out: BillingResult) -> BillingWritten:
    return BillingWritten.of(
        out.result,
        subscription_id=out.subscription_id,
        invoice_id=out.invoice_id,
        payment=_payment(out.payment),
    )


def _from_payment(out: PaymentOutcome) -> BillingWritten:
    return BillingWritten.of(out.result, invoice_id=out.invoice_id, payment=_payment(out))


def _caller(s: HttpSurface) -> Callable[..., Call]:
    return s.caller("billing:write", keyed=True)


def _set_default(s: HttpSurface) -> Callable[..., BillingWritten]:
    caller = _caller(s)

    def set_default(
        account_id: UUID, method_id: EntityId, body: Body, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = SetDefaultMethod(account_id=account_id, method_id=method_id)
        return BillingWritten.of(vaulting.set_default_method(call.deps, cmd, call.ctx(body)))

    return set_default


def _remove(s: HttpSurface) -> Callable[..., BillingWritten]:
    caller = _caller(s)

    def remove(
        account_id: UUID, method_id: EntityId, body: Body, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = RemoveMethod(account_id=account_id, method_id=method_id)
        return BillingWritten.of(vaulting.remove_method(call.deps, cmd, call.ctx(body)))

    return remove


def _subscribe(s: HttpSurface) -> Callable[..., BillingWritten]:
    caller = _caller(s)

    def subscribe(
        account_id: UUID, body: SubscribeBody, call: Call = Depends(caller)
    ) -> BillingWritten:
        on_session = body.on_session or s.customer_present
        cmd = Subscribe(account_id=account_id, plan_id=body.plan_id, on_session=on_session)
        return _from_billing(billing.subscribe(call.deps, cmd, call.ctx(body)))

    return subscribe


def _change_plan(s: HttpSurface) -> Callable[..., BillingWritten]:
    caller = _caller(s)

    def change_plan(
        account_id: UUID,
        subscription_id: EntityId,
        body: PlanBody,
        call: Call = Depends(caller),
    ) -> BillingWritten:
        cmd = ChangePlan(
            account_id=account_id,
            subscription_id=subscription_id,
            plan_id=body.plan_id,
            on_session=body.on_session or s.customer_present,
            quoted_at=body.quoted_at,
        )
        return _from_billing(billing.change_plan(call.deps, cmd, call.ctx(body)))

    return change_plan


def _cancel(s: HttpSurface) -> Callable[..., BillingWritten]:
    caller = _caller(s)

    def cancel(
        account_id: UUID,
        subscription_id: EntityId,
        body: CancelBody,
        call: Call = Depends(caller),
    ) -> BillingWritten:
        cmd = CancelSubscription(
            account_id=account_id, subscription_id=subscription_id, **body.command_fields()
        )
        return BillingWritten.of(billing.cancel_subscription(call.deps, cmd, call.ctx(body)))

    return cancel


def _pay(s: HttpSurface) -> Callable[..., BillingWritten]:
    caller = _caller(s)

    def pay(
        account_id: UUID, invoice_id: EntityId, body: PayBody, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = PayInvoice(
            account_id=account_id,
            invoice_id=invoice_id,
            method_id=body.method_id,
            on_session=s.customer_present,
        )
        return _from_payment(billing.pay_invoice(call.deps, cmd, call.ctx(body)))

    return pay


def _pay_bad_debt(s: HttpSurface) -> Callable[..., BadDebtPaid]:
    caller = _caller(s)

    def pay_bad_debt(
        account_id: UUID, body: BadDebtBody, call: Call = Depends(caller)
    ) -> BadDebtPaid:
        if call.key is None:
            raise CommandIdRequired("send an Idempotency-Key header")
        cmd = PayBadDebt(account_id=account_id, **body.command_fields())
        report = bad_debt.pay_bad_debt(call.deps, cmd, call.ctx(body))
        return BadDebtPaid(
            account_id=report.account_id,
            payments=[p for p in map(_payment, report.payments) if p],
            recovered=report.recovered,
            still_uncollectible=report.still_uncollectible,
            bad_debt=report.bad_debt,
            version=report.version,
        )

    return pay_bad_debt


# Recording a method already vaulted elsewhere (imports, backfills), with its details as
# given: operations only. Customers vault through the payment flow (payment_flow.py), where
# the details come from the processor.
def _add_card(s: HttpSurface) -> Callable[..., BillingWritten]:
    caller = _caller(s)

    def add_card(account_id: UUID, body: CardBody, call: Call = Depends(caller)) -> BillingWritten:
        cmd = AddCard(account_id=account_id, **body.command_fields())
        return BillingWritten.of(methods.add_card(call.deps, cmd, call.ctx(body)))

    return add_card


def _add_paypal(s: HttpSurface) -> Callable[..., BillingWritten]:
    caller = _caller(s)

    def add_paypal(
        account_id: UUID, body: PayPalBody, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = AddPayPal(account_id=account_id, **body.command_fields())
        return BillingWritten.of(methods.add_paypal(call.deps, cmd, call.ctx(body)))

    return add_paypal


def _void(s: HttpSurface) -> Callable[..., BillingWritten]:
    caller = _caller(s)

    def void(
        account_id: UUID, invoice_id: EntityId, body: Body, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = VoidInvoice(account_id=account_id, invoice_id=invoice_id)
        return BillingWritten.of(billing.void_invoice(call.deps, cmd, call.ctx(body)))

    return void


def _refund(s: HttpSurface) -> Callable[..., BillingWritten]:
    caller = _caller(s)

    def refund(
        account_id: UUID, attempt_id: EntityId, body: RefundBody, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = RefundPayment(account_id=account_id, attempt_id=attempt_id, **body.command_fields())
        return BillingWritten.of(refunds.refund_payment(call.deps, cmd, call.ctx(body)))

    return refund


def _link(s: HttpSurface) -> Callable[..., BillingWritten]:
    caller = _caller(s)

    def link(
        account_id: UUID, body: ProviderCustomerBody, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = LinkProviderCustomer(account_id=account_id, **body.command_fields())
        return BillingWritten.of(methods.link_provider_customer(call.deps, cmd, call.ctx(body)))

    return link


def _migrate(s: HttpSurface) -> Callable[..., BillingWritten]:
    caller = _caller(s)

    def migrate(
        account_id: UUID,
        method_id: EntityId,
        body: MigrateTokenBody,
        call: Call = Depends(caller),
    ) -> BillingWritten:
        cmd = MigrateToken(account_id=account_id, method_id=method_id, **body.command_fields())
        return BillingWritten.of(methods.migrate_token(call.deps, cmd, call.ctx(body)))

    return migrate


def _grant(s: HttpSurface) -> Callable[..., BillingWritten]:
    caller = _caller(s)

    def grant(account_id: UUID, body: CreditBody, call: Call = Depends(caller)) -> BillingWritten:
        cmd = GrantCredit(account_id=account_id, **body.command_fields())
        return BillingWritten.of(credits.grant_credit(call.deps, cmd, call.ctx(body)))

    return grant


def _revoke(s: HttpSurface) -> Callable[..., BillingWritten]:
    caller = _caller(s)

    def revoke(
        account_id: UUID, credit_id: EntityId, body: Body, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = RevokeCredit(account_id=account_id, credit_id=credit_id)
        return BillingWritten.of(credits.revoke_credit(call.deps, cmd, call.ctx(body)))

    return revoke


def _paid_out_of_band(s: HttpSurface) -> Callable[..., BillingWritten]:
    caller = _caller(s)

    def paid_out_of_band(
        account_id: UUID,
        invoice_id: EntityId,
        body: OutOfBandBody,
        call: Call = Depends(caller),
    ) -> BillingWritten:
        cmd = RecordOutOfBandPayment(
            account_id=account_id, invoice_id=invoice_id, **body.command_fields()
        )
        context = call.ctx(body)
        return BillingWritten.of(bad_debt.record_out_of_band_payment(call.deps, cmd, context))

    return paid_out_of_band


def _write_off(s: HttpSurface) -> Callable[..., BillingWritten]:
    caller = _caller(s)

    def write_off(
        account_id: UUID, invoice_id: EntityId, body: Body, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = WriteOffBadDebt(account_id=account_id, invoice_id=invoice_id)
        return BillingWritten.of(bad_debt.write_off_bad_debt(call.deps, cmd, call.ctx(body)))

    return write_off


def _mark_uncollectible(s: HttpSurface) -> Callable[..., BillingWritten]:
    caller = _caller(s)

    def mark_uncollectible(
        account_id: UUID, invoice_id: EntityId, body: Body, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = MarkUncollectible(account_id=account_id, invoice_id=invoice_id)
        return BillingWritten.of(bad_debt.mark_uncollectible(call.deps, cmd, call.ctx(body)))

    return mark_uncollectible


def _run(s: HttpSurface) -> Callable[..., RunSummary]:
    """The billing run (renewals, dunning, credit expiry), for the scheduler service."""

    caller = s.caller("billing:run")

    def run(body: RunBody, call: Call = Depends(caller)) -> RunSummary:
        cmd = RunBilling(**body.command_fields())
        report = dunning.run_billing(call.deps, cmd, call.ctx(body))
        return RunSummary(
            accounts=report.accounts,
            renewed=report.renewed,
            credits_expired=report.credits_expired,
            attempts=[p for p in map(_payment, report.attempts) if p],
            exhausted=report.exhausted,
            errors=report.errors,
            reached={
                account: Reached(version=r.version, position=r.position)
                for account, r in report.reached.items()
            },
        )

    return run


ACC = "/accounts/{account_id}"
CORE = Feature(
    (
        Route(
            "POST",
            f"{ACC}/payment-methods/{{method_id}}/default",
            _set_default,
            "set_default",
            "Make a method the default",
            "Future charges use this payment method first.",
        ),
        Route(
            "POST",
            f"{ACC}/payment-methods/{{method_id}}/remove",
            _remove,
            "remove",
            "Remove a payment method",
            "Detaches the method at its processor and stops using it.",
        ),
        Route(
            "POST",
            f"{ACC}/subscriptions",
            _subscribe,
            "subscribe",
            "Subscribe to a plan",
            "Starts a subscription and issues (and collects) its first invoice.",
            status_code=201,
        ),
        Route(
            "POST",
            f"{ACC}/subscriptions/{{subscription_id}}/plan",
            _change_plan,
            "change_plan",
            "Change plan",
            "Moves the subscription to another plan, prorated.",
        ),
        Route(
            "POST",
            f"{ACC}/subscriptions/{{subscription_id}}/cancel",
            _cancel,
            "cancel",
            "Cancel a subscription",
            "Now, or at the end of the period (`at_period_end`).",
        ),
        Route(
            "POST",
            f"{ACC}/invoices/{{invoice_id}}/pay",
            _pay,
            "pay",
            "Pay an invoice",
            "Charges the invoice's amount due to a method (the default unless "
            "`method_id` is given). A decline answers 402.",
        ),
        Route(
            "POST",
            f"{ACC}/pay-bad-debt",
            _pay_bad_debt,
            "pay_bad_debt",
            "Pay bad debt",
            "Charges every uncollectible invoice (or those of `invoice_ids`) at once; needs"
            " an Idempotency-Key.",
        ),
    ),
    tag="billing",
)
# Service and support: vaulted-elsewhere methods, voids, refunds, processor customers, tokens.
OPERATIONS = Feature(
    (
        Route(
            "POST",
            f"{ACC}/payment-methods/cards",
            _add_card,
            "add_card",
            "Add a card",
            "Records a card already vaulted at the processor.",
            status_code=201,
        ),
        Route(
            "POST",
            f"{ACC}/payment-methods/paypal",
            _add_paypal,
            "add_paypal",
            "Add a PayPal account",
            "Records a PayPal billing agreement vaulted at Braintree.",
            status_code=201,
        ),
        Route(
            "POST",
            f"{ACC}/invoices/{{invoice_id}}/void",
            _void,
            "void",
            "Void an invoice",
            "Cancels an open invoice: nothing is owed on it any more.",
        ),
        Route(
            "POST",
            f"{ACC}/payments/{{attempt_id}}/refunds",
            _refund,
            "refund",
            "Refund a payment",
            "Refunds part or all of a payment at its processor; needs an Idempotency-Key.",
            status_code=201,
        ),
        Route(
            "POST",
            f"{ACC}/provider-customers",
            _link,
            "link",
            "Link a processor customer",
            "Binds an existing customer at a processor to the account.",
        ),
        Route(
            "POST",
            f"{ACC}/payment-methods/{{method_id}}/migrate-token",
            _migrate,
            "migrate",
            "Migrate a PayPal token",
            "Replaces a PayPal method's vault token (token migration).",
        ),
    ),
    tag="billing",
)
# Support only: credits, payments made by other means, bad debt by hand, write-offs.
MONEY = Feature(
    (
        Route(
            "POST",
            f"{ACC}/credits",
            _grant,
            "grant",
            "Grant a credit",
            "Adds customer credit, used before charging; may expire.",
            status_code=201,
        ),
        Route(
            "POST",
            f"{ACC}/credits/{{credit_id}}/revoke",
            _revoke,
            "revoke",
            "Revoke a credit",
            "Removes what is left of a credit.",
        ),
        Route(
            "POST",
            f"{ACC}/invoices/{{invoice_id}}/paid-out-of-band",
            _paid_out_of_band,
            "paid_out_of_band",
            "Record an out-of-band payment",
            "Marks the invoice paid by other means (a bank transfer) with its reference.",
        ),
        Route(
            "POST",
            f"{ACC}/invoices/{{invoice_id}}/write-off",
            _write_off,
            "write_off",
            "Write an invoice off",
            "Writes an uncollectible invoice off: voided, its amount a bad-debt expense.",
        ),
        Route(
            "POST",
            f"{ACC}/invoices/{{invoice_id}}/mark-uncollectible",
            _mark_uncollectible,
            "mark_uncollectible",
            "Mark an invoice uncollectible",
            "Gives up on an open or past-due invoice before dunning does: it becomes"
            " uncollectible and the account is in bad debt.",
        ),
    ),
    tag="billing",
)
RUN = Feature(
    (
        Route(
            "POST",
            "/billing/run",
            _run,
            "run",
            "Run billing",
            "Renewals, dunning retries and credit expiry due now, for the given accounts.",
        ),
    ),
    tag="billing",
)
