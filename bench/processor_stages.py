"""The three measured paths: a card payment session (start, then complete), an off-session
collection through the commands, and reconciliation of paying accounts. Each operation is
timed alone and its calls to the outside counted (bench/processor_calls.py); the setup
around it (opening the account, the browser's PaymentMethod, the Turnstile token) is not."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar
from uuid import UUID

from adapters.bootstrap import Container
from adapters.reconcile import reconcile_many
from bench.cpu import CpuShare
from bench.measure import Stopwatch, latency_summary, say
from bench.processor_calls import Counters, Tally
from bench.processor_services import SITE_KEY, StandIns
from commands import accounts, billing, checkout, customers, vaulting
from commands.base import load_account
from commands.models import (
    AddVaultedCard,
    CommandContext,
    CompletePaymentSession,
    OpenAccount,
    StartPaymentSession,
    Subscribe,
)
from ledger.meta import ActorKind, Surface
from ledger.payments import AttemptStatus

PLAN = "pro-monthly-usd"
VISA = "4242424242424242"
WARM_UP = 5  # operations of each kind before the clock starts (connections, caches)
T = TypeVar("T")


@dataclass
class Samples:
    """Per operation: wall seconds, seconds inside the Stripe HTTP client, what it asked."""

    seconds: list[float] = field(default_factory=list)
    stripe_s: list[float] = field(default_factory=list)
    turnstile_s: list[float] = field(default_factory=list)
    find_charge_s: list[float] = field(default_factory=list)
    tallies: list[Tally] = field(default_factory=list)

    def add(self, seconds: float, tally: Tally) -> None:
        self.seconds.append(seconds)
        self.stripe_s.append(tally.stripe_s)
        self.turnstile_s.append(tally.turnstile_s)
        self.find_charge_s.append(tally.find_charge_s)
        self.tallies.append(tally)

    def summary(
        self, wall_s: float, cpu: CpuShare, event_types: list[str] | None = None
    ) -> dict[str, Any]:
        outside = zip(self.seconds, self.stripe_s, self.turnstile_s, strict=True)
        rest = [s - p - t for s, p, t in outside]
        return {
            "count": len(self.seconds),
            "wall_s": round(wall_s, 3),
            "cpu": asdict(cpu),
            "latency_ms": latency_summary(self.seconds),
            "stripe_client_ms": latency_summary(self.stripe_s),
            "turnstile_ms": latency_summary(self.turnstile_s),
            "find_charge_ms": latency_summary(self.find_charge_s),
            "without_find_charge_ms": latency_summary(
                [s - f for s, f in zip(self.seconds, self.find_charge_s, strict=True)]
            ),
            "rest_ms": latency_summary(rest),
            "stripe_share": round(sum(self.stripe_s) / max(sum(self.seconds), 1e-9), 3),
            "turnstile_share": round(sum(self.turnstile_s) / max(sum(self.seconds), 1e-9), 3),
            "per_operation": per_operation(self.tallies),
            "event_types": event_types or [],
        }


def per_operation(tallies: list[Tally]) -> dict[str, Any]:
    """Mean, min and max of each count over the operations, and the Stripe routes called."""
    out: dict[str, Any] = {}
    for name in (
        "stripe_calls",
        "braintree_calls",
        "turnstile_checks",
        "redis_commands",
        "store_events",
    ):
        values = [getattr(t, name) for t in tallies]
        out[name] = {
            "mean": round(sum(values) / max(len(values), 1), 3),
            "min": min(values, default=0),
            "max": max(values, default=0),
        }
    routes: Counter[str] = Counter()
    route_s: dict[str, float] = {}
    for t in tallies:
        routes.update(t.routes)
        for r, spent in t.route_s.items():
            route_s[r] = route_s.get(r, 0.0) + spent
    n = max(len(tallies), 1)
    out["stripe_routes"] = {r: round(c / n, 3) for r, c in routes.most_common()}
    out["stripe_route_ms"] = {r: round(route_s.get(r, 0.0) / n * 1000, 2) for r in routes}
    return out


class Bench:
    """The container, its counters and the stand-ins one run measures with."""

    def __init__(self, container: Container, counters: Counters, stand_ins: StandIns) -> None:
        self.container, self.counters, self.stand_ins = container, counters, stand_ins
        self.browser = stand_ins.browser_sdk()
        self._opened = 0

    def timed(self, samples: Samples, call: Callable[[], T]) -> T:
        before = self.counters.tally()
        began = time.perf_counter()
        result = call()
        seconds = time.perf_counter() - began
        samples.add(seconds, self.counters.tally() - before)
        return result

    def open_account(self) -> UUID:
        """Opened and its Stripe customer created, as `POST /internal/accounts` does."""
        self._opened += 1
        cmd = OpenAccount(
            name=f"Bench Payer {self._opened:06d}",
            email=f"payer-{self._opened:06d}@example.com",
            country="US",
            currency="USD",
        )
        deps = self.container.deps
        account_id = accounts.open_account(deps, cmd, service_ctx()).account_id
        synced = customers.sync_configured(deps, account_id, service_ctx())
        if synced != {"stripe": "created"}:
            raise AssertionError(f"the Stripe customer of {account_id} was not created: {synced}")
        return account_id

    def new_card(self) -> str:
        """A PaymentMethod as Stripe.js creates it in the customer's browser."""
        method = self.browser.v1.payment_methods.create(
            {
                "type": "card",
                "card": {"number": VISA, "exp_month": 12, "exp_year": 2030, "cvc": "123"},
            }
        )
        return method.id

    def event_types_since(self, account_id: UUID, version: int) -> list[str]:
        events = self.container.app.events.get(account_id, gt=version)
        return [type(e).__name__ for e in events]


def customer_ctx() -> CommandContext:
    return CommandContext(
        actor_id="bench-customer", actor_kind=ActorKind.CUSTOMER, surface=Surface.DASHBOARD
    )


def service_ctx() -> CommandContext:
    return CommandContext(
        actor_id="bench-service", actor_kind=ActorKind.SERVICE, surface=Surface.IAPI
    )


# --- 1. payment session with a card ------------------------------------------------------


def sessions(bench: Bench, n: int) -> dict[str, Any]:
    say(f"P1. card payment sessions x {n} (start, then complete, pay_open_invoices=False)")
    for _ in range(WARM_UP):
        _session(bench, Samples(), Samples())
    start, complete = Samples(), Samples()
    watch = Stopwatch()
    types = _session(bench, start, complete)
    for _ in range(n - 1):
        _session(bench, start, complete)
    wall, cpu = watch.seconds, watch.cpu()
    return {
        "start": start.summary(wall, cpu),
        "complete": complete.summary(wall, cpu, types),
    }


def _session(bench: Bench, start: Samples, complete: Samples) -> list[str]:
    co = bench.container.checkout
    assert co is not None, "the container has no checkout: Turnstile settings missing"
    account_id, ctx = bench.open_account(), customer_ctx()
    begin = StartPaymentSession(account_id=account_id, method="card", pay_open_invoices=False)
    started = bench.timed(start, lambda: checkout.start_session(co, begin, ctx))
    finish = CompletePaymentSession(
        account_id=account_id,
        session_id=started.session_id,
        turnstile_token=bench.stand_ins.turnstile.mint(SITE_KEY),
        payment_method=bench.new_card(),
    )
    version = load_account(bench.container.app, account_id).version
    done = bench.timed(complete, lambda: checkout.complete_session(co, finish, ctx, "127.0.0.1"))
    if done.replayed or done.payments:
        raise AssertionError(f"session {started.session_id} was not a fresh vaulting: {done}")
    return bench.event_types_since(account_id, version)


# --- 2. off-session collection ---------------------------------------------------------


def paying_account(bench: Bench, samples: Samples | None = None) -> tuple[UUID, list[str]]:
    """An account with a Stripe customer and a vaulted default card, then subscribed
    off-session: the first invoice is collected from the card (timed into `samples`)."""
    account_id = bench.open_account()
    deps = bench.container.deps
    add = AddVaultedCard(account_id=account_id, payment_method=bench.new_card())
    version = vaulting.add_vaulted_card(deps, add, service_ctx()).version
    cmd = Subscribe(account_id=account_id, plan_id=PLAN, on_session=False)

    def subscribe() -> billing.BillingResult:
        return billing.subscribe(deps, cmd, customer_ctx())

    result = bench.timed(samples, subscribe) if samples is not None else subscribe()
    if result.payment is None or result.payment.status is not AttemptStatus.SUCCEEDED:
        raise AssertionError(f"the collection for {account_id} did not succeed: {result}")
    return account_id, bench.event_types_since(account_id, version)


def collections(bench: Bench, n: int) -> tuple[dict[str, Any], list[UUID]]:
    say(f"P2. off-session collections x {n} (Subscribe on_session=False, vaulted card)")
    for _ in range(WARM_UP):
        paying_account(bench)
    samples = Samples()
    watch = Stopwatch()
    first, types = paying_account(bench, samples)
    accounts = [first] + [paying_account(bench, samples)[0] for _ in range(n - 1)]
    return samples.summary(watch.seconds, watch.cpu(), types), accounts


# --- 3. reconciliation -----------------------------------------------------------------


def reconciliation(bench: Bench, accounts: list[UUID], m: int) -> dict[str, Any]:
    extra = max(0, m - len(accounts))
    if extra:
        say(f"P3. making {extra} more paying accounts to reconcile")
    chosen = accounts[:m] + [paying_account(bench)[0] for _ in range(extra)]
    say(f"P3. reconcile_many over {len(chosen)} accounts (customer, card, one payment each)")
    reconcile_many(bench.container, chosen[:WARM_UP])
    samples, marks = Samples(), [bench.counters.tally()]
    stamps = [time.perf_counter()]

    def progress(_: UUID, __: Any) -> None:
        stamps.append(time.perf_counter())
        marks.append(bench.counters.tally())  # the counters' own time is taken out below
        stamps.append(time.perf_counter())

    watch = Stopwatch()
    summary = reconcile_many(bench.container, chosen, progress)
    wall, cpu = watch.seconds, watch.cpu()
    for i in range(len(chosen)):
        samples.add(stamps[2 * i + 1] - stamps[2 * i], marks[i + 1] - marks[i])
    measured = sum(samples.seconds)
    out = samples.summary(measured, cpu)
    out |= {
        "accounts_per_s": round(len(chosen) / measured, 1),
        "wall_with_counting_s": round(wall, 3),
        "in_step": summary.in_step,
        "with_findings": summary.with_findings,
        "findings_by_kind": dict(summary.by_kind),
        "processor_errors": dict(summary.processor_errors),
        "failed": len(summary.failed),
    }
    return out
