"""Demo data that tells the whole story: 22 accounts whose histories are made through the
commands (never by writing events), on the simulated processor, walked through four months
on one test clock ("demo"): paying card customers with renewals, a PayPal customer on the
send-invoice path, one in dunning, one in bad debt, one recovered, one stuck, one disputed,
one with credit, one waiting for 3-D Secure, a closed one; names in several scripts and
several currencies, JPY among them.

Idempotent: every command has an id derived from its account and step (a repeat is a
replay that records nothing), and the clock only walks when it is behind the step's time,
which is fixed from the clock's start (kept with the clock), so a second run adds nothing.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from uuid import UUID, uuid5

from adapters.bootstrap import Container
from adapters.clock_registry import ClockRegistry, FrozenClock, TestClock
from adapters.clock_walk import advance, registry
from adapters.simulated import SimulatedGateway
from commands import accounts, bad_debt, billing, credits, processor_events, vaulting
from commands.base import CommandResult, Deps, load_account
from commands.models import (
    AddVaultedCard,
    CloseAccount,
    CommandContext,
    GrantCredit,
    OpenAccount,
    PayBadDebt,
    PayInvoice,
    RecordDisputeOpened,
    Subscribe,
    VaultPayPal,
)
from commands.ports import (
    ChargeRequest,
    ChargeResult,
    DisputeState,
    ProcessorUnavailable,
    RefundRequest,
)
from ledger.errors import DomainError, ErrorKind
from ledger.meta import ActorKind, Surface
from ledger.payments import AttemptStatus, Processor
from projections.feed import catch_up_together

_DEMO_NAMESPACE = UUID("8a4a2a8e-74a5-4bd8-9a43-5a2d8f0e9c10")
CLOCK_NAME = "demo"
HISTORY = timedelta(days=120)  # from the clock's start to the demo's "today"
SETTLE = timedelta(days=30)  # bad debt recovered, dispute opened
DUNNING_FROM = timedelta(days=3)  # before the end: the dunning account's first failure
ACTOR = "demo-seeder"
REASON = "demo data (ledger demo)"


class DemoNeedsSimulatedProcessor(DomainError):
    """The demo charges cards and PayPal: it runs only on the simulated processor (the
    embedded default, or LEDGER_SIMULATED_PROCESSOR=true), never on a real one."""

    code = "demo_needs_simulated_processor"
    kind = ErrorKind.REFUSED


class Story(StrEnum):
    PAYING = "paying"  # a card, monthly or yearly renewals
    PAYPAL = "paypal"  # PayPal billing agreement: the send-invoice path, paid
    DUNNING = "dunning"  # its renewal card declines: retries under way at the end
    BAD_DEBT = "bad_debt"  # declined until the schedule ran out: uncollectible
    RECOVERED = "recovered"  # bad debt, then paid with a new card: "recovered"
    STUCK = "stuck"  # the processor's answer was lost: an attempt in flight for hours
    DISPUTE = "dispute"  # its first payment disputed by the cardholder's bank
    CREDITS = "credits"  # credit granted by support, used by its invoices
    THREE_DS = "three_ds"  # waiting for the customer to authenticate (3-D Secure)
    CLOSED = "closed"  # opened, then closed


@dataclass(frozen=True)
class DemoAccount:
    name: str
    email: str
    country: str
    currency: str
    story: Story
    plan: str | None = None
    card: str | None = None  # a Stripe test card token (adapters/simulated)


VISA, MASTERCARD = "pm_card_visa", "pm_card_mastercard"
DECLINES = "pm_card_chargeCustomerFail"  # 4000000000000341: attaches, then declines
THREE_DS = "pm_card_authenticationRequiredOnSetup"  # 4000002500003155

# The first five keep their place (and command ids) from the first demo.
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        "Ada Lovelace", "ada@example.com", "GB", "GBP", Story.PAYING, "pro-monthly-gbp", VISA
    ),
    DemoAccount(
        "Grace Hopper",
        "grace@example.com",
        "US",
        "USD",
        Story.PAYING,
        "pro-monthly-usd",
        MASTERCARD,
    ),
    DemoAccount(
        "Katherine Johnson", "katherine@example.com", "US", "USD", Story.PAYPAL, "pro-yearly-usd"
    ),
    DemoAccount(
        "Hedy Lamarr", "hedy@example.at", "AT", "EUR", Story.PAYING, "pro-monthly-eur", VISA
    ),
    DemoAccount("Tu Youyou", "tu@example.cn", "CN", "CNY", Story.CLOSED),
    DemoAccount("王芳", "wang.fang@example.cn", "CN", "USD", Story.PAYING, "pro-monthly-usd", VISA),
    DemoAccount(
        "فاطمة الزهراء",
        "fatima@example.ae",
        "AE",
        "USD",
        Story.PAYING,
        "business-monthly-usd",
        VISA,
    ),
    DemoAccount(
        "Дмитрий Иванов",
        "dmitry@example.ru",
        "RU",
        "EUR",
        Story.PAYING,
        "business-monthly-eur",
        MASTERCARD,
    ),
    DemoAccount(
        "山田花子", "hanako@example.jp", "JP", "JPY", Story.PAYING, "pro-monthly-jpy", VISA
    ),
    DemoAccount(
        "佐藤健", "ken.sato@example.jp", "JP", "JPY", Story.DUNNING, "pro-monthly-jpy", DECLINES
    ),
    DemoAccount(
        "Ольга Петрова", "olga@example.de", "DE", "EUR", Story.BAD_DEBT, "pro-monthly-eur", DECLINES
    ),
    DemoAccount(
        "عمر حداد", "omar@example.com", "US", "USD", Story.RECOVERED, "pro-monthly-usd", DECLINES
    ),
    DemoAccount("李伟", "li.wei@example.sg", "SG", "USD", Story.STUCK, "pro-monthly-usd", VISA),
    DemoAccount(
        "Marie Curie", "marie@example.fr", "FR", "EUR", Story.DISPUTE, "pro-monthly-eur", VISA
    ),
    DemoAccount(
        "Nadia Boulanger", "nadia@example.fr", "FR", "EUR", Story.CREDITS, "pro-monthly-eur", VISA
    ),
    DemoAccount(
        "Alan Turing",
        "alan@example.co.uk",
        "GB",
        "GBP",
        Story.THREE_DS,
        "pro-monthly-gbp",
        THREE_DS,
    ),
    DemoAccount(
        "Emmy Noether", "emmy@example.de", "DE", "EUR", Story.PAYING, "business-monthly-eur", VISA
    ),
    DemoAccount(
        "Srinivasa Ramanujan",
        "ramanujan@example.in",
        "IN",
        "USD",
        Story.PAYING,
        "pro-yearly-usd",
        VISA,
    ),
    DemoAccount(
        "Chiamaka Okafor",
        "chiamaka@example.ng",
        "NG",
        "USD",
        Story.PAYING,
        "pro-monthly-usd",
        MASTERCARD,
    ),
    DemoAccount(
        "Софья Ковалевская", "sofia@example.ru", "RU", "GBP", Story.PAYING, "pro-monthly-gbp", VISA
    ),
    DemoAccount(
        "ابن الهيثم", "alhazen@example.eg", "EG", "USD", Story.PAYING, "pro-monthly-usd", VISA
    ),
    DemoAccount(
        "Rosalind Franklin",
        "rosalind@example.co.uk",
        "GB",
        "GBP",
        Story.PAYING,
        "business-monthly-gbp",
        VISA,
    ),
)


def demo_command_id(index: int) -> UUID:
    return uuid5(_DEMO_NAMESPACE, f"demo-account-{index}")


def first_demo_account() -> UUID:
    return accounts.account_id_for_command(demo_command_id(0))


def billing_demo_account() -> tuple[UUID, DemoAccount]:
    """The account whose billing pages `ledger serve` opens: in bad debt, so a newcomer can
    add a card and pay (its own card declines)."""
    index = next(i for i, a in enumerate(DEMO_ACCOUNTS) if a.story is Story.BAD_DEBT)
    return accounts.account_id_for_command(demo_command_id(index)), DEMO_ACCOUNTS[index]


def demo_account_ids() -> list[UUID]:
    return [accounts.account_id_for_command(demo_command_id(i)) for i in range(len(DEMO_ACCOUNTS))]


@dataclass
class DemoReport:
    opened: list[CommandResult] = field(default_factory=list)
    recorded: int = 0  # commands that recorded something (0 on a second run)
    walked_days: int = 0

    def saw(self, result: CommandResult) -> None:
        self.recorded += not result.replayed


class LostAnswer:
    """The simulated processor, its answer to a charge lost after it charged (a timeout):
    the ledger leaves the attempt in flight, as it must, until it asks again."""

    def __init__(self, inner: SimulatedGateway) -> None:
        self.inner = inner

    def charge(self, request: ChargeRequest) -> ChargeResult:
        self.inner.charge(request)
        raise ProcessorUnavailable("the processor's answer was lost (demo)")

    def refund(self, request: RefundRequest) -> str:
        return self.inner.refund(request)

    def find_charge(self, attempt_id: str, processor: Processor) -> ChargeResult | None:
        return self.inner.find_charge(attempt_id, processor)

    def cancel_charge(
        self, attempt_id: str, processor: Processor, processor_payment_id: str
    ) -> ChargeResult:
        return self.inner.cancel_charge(attempt_id, processor, processor_payment_id)


@dataclass
class _Seeder:
    container: Container
    clocks: ClockRegistry
    clock: TestClock
    sim: SimulatedGateway
    report: DemoReport

    def ctx(self, index: int, step: str, kind: ActorKind = ActorKind.SYSTEM) -> CommandContext:
        command_id = (
            demo_command_id(index)
            if step == "open"
            else uuid5(_DEMO_NAMESPACE, f"demo-account-{index}:{step}")
        )
        reason = REASON if kind is ActorKind.SUPPORT else None
        return CommandContext(
            actor_id=ACTOR,
            actor_kind=kind,
            surface=Surface.CLI,
            command_id=command_id,
            reason=reason,
        )

    def deps(self) -> Deps:
        """The dependencies at the demo clock's time."""
        now = self.clocks.get(self.clock.clock_id).frozen_at
        return dataclasses.replace(self.container.deps, clock=FrozenClock(now))

    def walk_to(self, offset: timedelta) -> None:
        target = self.clock.started_at + offset
        if self.clocks.get(self.clock.clock_id).frozen_at < target:
            walk = advance(self.container, self.clock.clock_id, target, actor=ACTOR)
            self.report.walked_days += walk.steps

    def account_id(self, index: int) -> UUID:
        return accounts.account_id_for_command(demo_command_id(index))

    def open(self, index: int, a: DemoAccount) -> None:
        cmd = OpenAccount(name=a.name, email=a.email, country=a.country, currency=a.currency)
        result = accounts.open_account(self.deps(), cmd, self.ctx(index, "open"))
        self.report.opened.append(result)
        self.report.saw(result)
        if a.story is not Story.THREE_DS:  # it lives in real time: its wait is fresh
            account = load_account(self.container.app, result.account_id)
            self.clocks.attach(account, self.clock.clock_id, ACTOR, REASON)

    def add_card(self, index: int, card: str, deps: Deps | None = None, step: str = "card") -> None:
        cmd = AddVaultedCard(account_id=self.account_id(index), payment_method=card)
        self.report.saw(vaulting.add_vaulted_card(deps or self.deps(), cmd, self.ctx(index, step)))

    def subscribe(self, index: int, a: DemoAccount, deps: Deps | None = None) -> None:
        if a.plan is None:
            return
        on_session = a.story is Story.THREE_DS
        cmd = Subscribe(account_id=self.account_id(index), plan_id=a.plan, on_session=on_session)
        done = billing.subscribe(deps or self.deps(), cmd, self.ctx(index, "subscribe"))
        self.report.saw(done.result)
        if a.story is Story.PAYPAL and done.invoice_id is not None:
            pay = PayInvoice(account_id=self.account_id(index), invoice_id=done.invoice_id)
            outcome = billing.pay_invoice(self.deps(), pay, self.ctx(index, "pay-first"))
            self.report.saw(outcome.result)

    def start(self, index: int, a: DemoAccount) -> None:
        """What every story does on the clock's first day."""
        deps, account_id = self.deps(), self.account_id(index)
        if a.story is Story.CLOSED:
            close = accounts.close_account(
                deps,
                CloseAccount(account_id=account_id),
                self.ctx(index, "close", ActorKind.SUPPORT),
            )
            self.report.saw(close)
            return
        if a.story is Story.PAYPAL:
            vault = VaultPayPal(account_id=account_id, nonce="fake-paypal-billing-agreement-nonce")
            self.report.saw(vaulting.vault_paypal(deps, vault, self.ctx(index, "paypal")))
        elif a.card and a.story is not Story.THREE_DS:
            self.add_card(index, a.card)
        if a.story is Story.CREDITS:
            grant = GrantCredit(account_id=account_id, amount=5000, currency=a.currency)
            ctx = self.ctx(index, "credit", ActorKind.SUPPORT)
            self.report.saw(credits.grant_credit(deps, grant, ctx))
        if a.story not in (Story.DUNNING, Story.STUCK, Story.THREE_DS):
            self.subscribe(index, a)

    def recover(self, index: int) -> None:
        self.add_card(index, VISA, step="new-card")
        if not load_account(self.container.app, self.account_id(index)).bad_debt:
            return  # recovered by an earlier run
        cmd = PayBadDebt(account_id=self.account_id(index))
        paid = bad_debt.pay_bad_debt(self.deps(), cmd, self.ctx(index, "pay-bad-debt"))
        for payment in paid.payments:
            self.report.saw(payment.result)

    def dispute(self, index: int) -> None:
        account = load_account(self.container.app, self.account_id(index))
        paid = sorted(
            (a for a in account.attempts.values() if a.status is AttemptStatus.SUCCEEDED),
            key=lambda a: a.started_at,
        )
        first = paid[0] if paid else None
        if first is None or first.processor_payment_id is None or first.dispute is not None:
            return  # nothing to dispute, or disputed by an earlier run
        found = self.sim.dispute(first.processor_payment_id, DisputeState.OPEN)
        cmd = RecordDisputeOpened(
            account_id=account.id,
            attempt_id=first.attempt_id,
            processor_payment_id=first.processor_payment_id,
            dispute_id=found.dispute_id,
            amount=found.amount,
            currency=first.amount.currency,
        )
        processor_events.record_dispute_opened(self.deps(), cmd, self.ctx(index, "dispute"))

    def stuck(self, index: int, a: DemoAccount) -> None:
        """Subscribes with the processor's answer lost: the attempt stays in flight (a repeat
        of the purchase would be refused while it is, so a later run leaves it be)."""
        if load_account(self.container.app, self.account_id(index)).subscriptions:
            return
        lost = dataclasses.replace(self.deps(), gateway=LostAnswer(self.sim))
        try:
            self.subscribe(index, a, deps=lost)
        except ProcessorUnavailable:
            self.report.recorded += 1  # the subscription and its attempt in flight


def _stories(story: Story) -> list[tuple[int, DemoAccount]]:
    return [(i, a) for i, a in enumerate(DEMO_ACCOUNTS) if a.story is story]


def _clock(clocks: ClockRegistry) -> TestClock:
    """The demo's clock: four months back from a few hours before the first run."""
    found = clocks.named(CLOCK_NAME)
    if found is not None:
        return found
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return clocks.new(CLOCK_NAME, now - timedelta(hours=6) - HISTORY)


def seed(container: Container) -> DemoReport:
    """Builds (or finishes building) the demo; a second run records nothing. The read models
    are caught up before it returns, so a link printed next shows the demo as it is."""
    if container.simulated is None:
        raise DemoNeedsSimulatedProcessor()
    clocks = registry(container)
    s = _Seeder(container, clocks, _clock(clocks), container.simulated, DemoReport())
    for index, a in enumerate(DEMO_ACCOUNTS):
        s.open(index, a)
    for index, a in enumerate(DEMO_ACCOUNTS):
        s.start(index, a)
    s.walk_to(SETTLE)
    for index, _ in _stories(Story.RECOVERED):
        s.recover(index)
    for index, _ in _stories(Story.DISPUTE):
        s.dispute(index)
    s.walk_to(HISTORY - DUNNING_FROM)
    for index, a in _stories(Story.DUNNING):
        s.subscribe(index, a)
    s.walk_to(HISTORY)
    for index, a in _stories(Story.STUCK):
        s.stuck(index, a)
    for index, a in _stories(Story.THREE_DS):  # in real time, off the clock
        s.add_card(index, a.card or THREE_DS, deps=container.deps)
        s.subscribe(index, a, deps=container.deps)
    catch_up_together(container.connection, list(container.projections.values()), container.reader)
    return s.report
