"""Billing routes (payment methods, subscriptions, invoices, payments, credits, bad debt),
built once per surface. Every route declares the principal kinds and scope it accepts; a
customer reaches only its own account; support writes carry a reason (the domain refuses a
support action without one); support-only actions are refused for others by the domain."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from adapters.bootstrap import Container
from adapters.http.auth import Allow, Principal
from adapters.http.common import (
    CorrelationId,
    IdempotencyKey,
    container_of,
    context,
    owned_by,
    request_fingerprint,
)
from commands import bad_debt, billing, credits, dunning, methods, refunds, vaulting
from commands.base import CommandResult
from commands.base import Deps as CommandDeps
from commands.billing import BillingResult
from commands.collect import PaymentOutcome
from commands.errors import CommandIdRequired
from commands.models import (
    AddCard,
    AddPayPal,
    Amount,
    BraintreeToken,
    CancelSubscription,
    CardBrand,
    ChangePlan,
    CommandContext,
    Currency,
    Email,
    ExpMonth,
    ExpYear,
    GrantCredit,
    Last4,
    LedgerId,
    LinkProviderCustomer,
    MethodId,
    MigrateToken,
    OutOfBandFields,
    PayBadDebt,
    PayInvoice,
    PlanId,
    ProcessorRef,
    ProviderCustomerFields,
    Reason,
    RecordOutOfBandPayment,
    RefundPayment,
    RemoveMethod,
    RevokeCredit,
    RunBilling,
    SetDefaultMethod,
    StripeMethodRef,
    Subscribe,
    VoidInvoice,
    WriteOffBadDebt,
)
from ledger.meta import ActorKind, Surface

Deps = Annotated[Container, Depends(container_of)]
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


class CardBody(Body):
    processor_ref: StripeMethodRef
    brand: CardBrand
    last4: Last4
    exp_month: ExpMonth
    exp_year: ExpYear
    make_default: bool = True


class PayPalBody(Body):
    token: BraintreeToken
    billing_agreement_id: ProcessorRef | None = None
    payer_email: Email
    make_default: bool = True


class SubscribeBody(Body):
    plan_id: PlanId
    on_session: bool = True


class PlanBody(Body):
    plan_id: PlanId
    on_session: bool = True


class CancelBody(Body):
    at_period_end: bool = True


class PayBody(Body):
    method_id: LedgerId | None = None


class CreditBody(Body):
    amount: Amount
    currency: Currency
    expires_at: AwareDatetime | None = None


class RefundBody(Body):
    amount: Amount


class ProviderCustomerBody(Body, ProviderCustomerFields):
    """LinkProviderCustomer's fields, with the surface's reason."""


class OutOfBandBody(Body, OutOfBandFields):
    """RecordOutOfBandPayment's fields, with the surface's reason."""


class MigrateTokenBody(Body):
    new_token: BraintreeToken
    billing_agreement_id: ProcessorRef


class RunBody(Body):
    account_ids: list[UUID] = Field(min_length=1, max_length=10_000)


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


class BadDebtPaid(BaseModel):
    account_id: UUID
    payments: list[Payment]
    recovered: list[str]
    still_uncollectible: list[str]
    bad_debt: bool


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


def _written(result: CommandResult, **extra: Any) -> BillingWritten:
    return BillingWritten(
        account_id=result.account_id,
        version=result.version,
        position=result.position,
        replayed=result.replayed,
        **extra,
    )


def _from_billing(out: BillingResult) -> BillingWritten:
    return _written(
        out.result,
        subscription_id=out.subscription_id,
        invoice_id=out.invoice_id,
        payment=_payment(out.payment),
    )


def _from_payment(out: PaymentOutcome) -> BillingWritten:
    return _written(out.result, invoice_id=out.invoice_id, payment=_payment(out))


class Surfaces:
    """Which of the optional route groups a surface gets."""

    def __init__(self, *, operations: bool, support: bool) -> None:
        self.operations = operations  # service/support: void, refunds, token migration
        self.support = support  # support only: credits, write-offs


@dataclass(frozen=True)
class Call:
    """Everything a billing route needs besides its own path and body. Made by the route's
    dependency, which has already checked that the principal may reach `account_id`."""

    who: Principal
    container: Container
    correlation_id: UUID
    key: str | None
    surface: Surface
    account_id: UUID
    request: Request

    @property
    def deps(self) -> CommandDeps:
        return self.container.deps

    def ctx(self, body: Body) -> CommandContext:
        keyed = request_fingerprint(self.request, body) if self.key is not None else None
        return context(self.who, self.surface, self.correlation_id, self.key, body.reason, keyed)


def _caller(surface: Surface, kinds: list[ActorKind]) -> Callable[..., Call]:
    """The route's dependency. A customer's path must name its own account: any other
    answers 404 first, before the body, the Idempotency-Key or any configuration is looked
    at (adapters/http/common.py `owned_by`)."""
    allow = Allow(kinds, ["billing:write"])
    principal = owned_by(allow) if kinds == [ActorKind.CUSTOMER] else allow

    def call(
        account_id: UUID,
        who: Annotated[Principal, Depends(principal)],
        container: Deps,
        cid: CorrelationId,
        request: Request,
        key: IdempotencyKey = None,
    ) -> Call:
        return Call(who, container, cid, key, surface, account_id, request)

    return call


def billing_router(
    prefix: str, surface: Surface, kinds: list[ActorKind], groups: Surfaces
) -> APIRouter:
    router = APIRouter(prefix=prefix, tags=[f"billing ({surface.value})"])
    caller = _caller(surface, kinds)
    customer = kinds == [ActorKind.CUSTOMER]  # a customer is, by definition, present

    @router.post("/{account_id}/payment-methods/{method_id}/default")
    def set_default(
        account_id: UUID, method_id: EntityId, body: Body, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = SetDefaultMethod(account_id=account_id, method_id=method_id)
        return _written(vaulting.set_default_method(call.deps, cmd, call.ctx(body)))

    @router.post("/{account_id}/payment-methods/{method_id}/remove")
    def remove(
        account_id: UUID, method_id: EntityId, body: Body, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = RemoveMethod(account_id=account_id, method_id=method_id)
        return _written(vaulting.remove_method(call.deps, cmd, call.ctx(body)))

    @router.post("/{account_id}/subscriptions", status_code=201)
    def subscribe(
        account_id: UUID, body: SubscribeBody, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = Subscribe(
            account_id=account_id, plan_id=body.plan_id, on_session=body.on_session or customer
        )
        return _from_billing(billing.subscribe(call.deps, cmd, call.ctx(body)))

    @router.post("/{account_id}/subscriptions/{subscription_id}/plan")
    def change_plan(
        account_id: UUID, subscription_id: EntityId, body: PlanBody, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = ChangePlan(
            account_id=account_id,
            subscription_id=subscription_id,
            plan_id=body.plan_id,
            on_session=body.on_session or customer,
        )
        return _from_billing(billing.change_plan(call.deps, cmd, call.ctx(body)))

    @router.post("/{account_id}/subscriptions/{subscription_id}/cancel")
    def cancel(
        account_id: UUID, subscription_id: EntityId, body: CancelBody, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = CancelSubscription(
            account_id=account_id, subscription_id=subscription_id, at_period_end=body.at_period_end
        )
        return _written(billing.cancel_subscription(call.deps, cmd, call.ctx(body)))

    @router.post("/{account_id}/invoices/{invoice_id}/pay")
    def pay(
        account_id: UUID, invoice_id: EntityId, body: PayBody, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = PayInvoice(
            account_id=account_id,
            invoice_id=invoice_id,
            method_id=body.method_id,
            on_session=customer,
        )
        return _from_payment(billing.pay_invoice(call.deps, cmd, call.ctx(body)))

    @router.post("/{account_id}/pay-bad-debt")
    def pay_bad_debt(account_id: UUID, body: PayBody, call: Call = Depends(caller)) -> BadDebtPaid:
        if call.key is None:
            raise CommandIdRequired("send an Idempotency-Key header")
        cmd = PayBadDebt(account_id=account_id, method_id=body.method_id)
        report = bad_debt.pay_bad_debt(call.deps, cmd, call.ctx(body))
        return BadDebtPaid(
            account_id=report.account_id,
            payments=[p for p in map(_payment, report.payments) if p],
            recovered=report.recovered,
            still_uncollectible=report.still_uncollectible,
            bad_debt=report.bad_debt,
        )

    if groups.operations:
        _operations(router, caller)
    if groups.support:
        _support(router, caller)
    return router


def _operations(router: APIRouter, caller: Callable[..., Call]) -> None:
    # Recording a method already vaulted elsewhere (imports, backfills), with its details as
    # given: operations only. Customers vault through the payment flow (payment_flow.py),
    # where the details come from the processor.
    @router.post("/{account_id}/payment-methods/cards", status_code=201)
    def add_card(account_id: UUID, body: CardBody, call: Call = Depends(caller)) -> BillingWritten:
        cmd = AddCard(account_id=account_id, **body.model_dump(exclude={"reason"}))
        return _written(methods.add_card(call.deps, cmd, call.ctx(body)))

    @router.post("/{account_id}/payment-methods/paypal", status_code=201)
    def add_paypal(
        account_id: UUID, body: PayPalBody, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = AddPayPal(account_id=account_id, **body.model_dump(exclude={"reason"}))
        return _written(methods.add_paypal(call.deps, cmd, call.ctx(body)))

    @router.post("/{account_id}/invoices/{invoice_id}/void")
    def void(
        account_id: UUID, invoice_id: EntityId, body: Body, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = VoidInvoice(account_id=account_id, invoice_id=invoice_id)
        return _written(billing.void_invoice(call.deps, cmd, call.ctx(body)))

    @router.post("/{account_id}/payments/{attempt_id}/refunds", status_code=201)
    def refund(
        account_id: UUID, attempt_id: EntityId, body: RefundBody, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = RefundPayment(account_id=account_id, attempt_id=attempt_id, amount=body.amount)
        return _written(refunds.refund_payment(call.deps, cmd, call.ctx(body)))

    @router.post("/{account_id}/provider-customers")
    def link(
        account_id: UUID, body: ProviderCustomerBody, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = LinkProviderCustomer(
            account_id=account_id, processor=body.processor, customer_id=body.customer_id
        )
        return _written(methods.link_provider_customer(call.deps, cmd, call.ctx(body)))

    @router.post("/{account_id}/payment-methods/{method_id}/migrate-token")
    def migrate(
        account_id: UUID, method_id: EntityId, body: MigrateTokenBody, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = MigrateToken(
            account_id=account_id,
            method_id=method_id,
            new_token=body.new_token,
            billing_agreement_id=body.billing_agreement_id,
        )
        return _written(methods.migrate_token(call.deps, cmd, call.ctx(body)))


def _support(router: APIRouter, caller: Callable[..., Call]) -> None:
    @router.post("/{account_id}/credits", status_code=201)
    def grant(account_id: UUID, body: CreditBody, call: Call = Depends(caller)) -> BillingWritten:
        cmd = GrantCredit(account_id=account_id, **body.model_dump(exclude={"reason"}))
        return _written(credits.grant_credit(call.deps, cmd, call.ctx(body)))

    @router.post("/{account_id}/credits/{credit_id}/revoke")
    def revoke(
        account_id: UUID, credit_id: EntityId, body: Body, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = RevokeCredit(account_id=account_id, credit_id=credit_id)
        return _written(credits.revoke_credit(call.deps, cmd, call.ctx(body)))

    @router.post("/{account_id}/invoices/{invoice_id}/paid-out-of-band")
    def paid_out_of_band(
        account_id: UUID, invoice_id: EntityId, body: OutOfBandBody, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = RecordOutOfBandPayment(
            account_id=account_id,
            invoice_id=invoice_id,
            processor=body.processor,
            reference=body.reference,
        )
        context = call.ctx(body)
        return _written(bad_debt.record_out_of_band_payment(call.deps, cmd, context))

    @router.post("/{account_id}/invoices/{invoice_id}/write-off")
    def write_off(
        account_id: UUID, invoice_id: EntityId, body: Body, call: Call = Depends(caller)
    ) -> BillingWritten:
        cmd = WriteOffBadDebt(account_id=account_id, invoice_id=invoice_id)
        return _written(bad_debt.write_off_bad_debt(call.deps, cmd, call.ctx(body)))


def billing_run_router() -> APIRouter:
    """The billing run (renewals, dunning, credit expiry), for the scheduler service."""
    router = APIRouter(prefix="/internal/billing", tags=["billing (iapi)"])
    Runner = Annotated[Principal, Depends(Allow([ActorKind.SERVICE], ["billing:run"]))]

    @router.post("/run")
    def run(body: RunBody, who: Runner, c: Deps, cid: CorrelationId) -> RunSummary:
        context = CommandContext(
            actor_id=who.id,
            actor_kind=who.kind,
            surface=Surface.IAPI,
            reason=body.reason,
            correlation_id=cid,
        )
        report = dunning.run_billing(c.deps, RunBilling(account_ids=body.account_ids), context)
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

    return router


customer = billing_router(
    "/v1/accounts",
    Surface.DASHBOARD,
    [ActorKind.CUSTOMER],
    Surfaces(operations=False, support=False),
)
service = billing_router(
    "/internal/accounts",
    Surface.IAPI,
    [ActorKind.SERVICE],
    Surfaces(operations=True, support=False),
)
support = billing_router(
    "/support/accounts",
    Surface.NINJAPANEL,
    [ActorKind.SUPPORT],
    Surfaces(operations=True, support=True),
)
run = billing_run_router()
