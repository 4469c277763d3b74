"""The business state on /metrics, on real PostgreSQL: accounts brought into each state by
real commands (scripted fake gateway), projected, then scraped and parsed as Prometheus
would; the values follow the read models at scrape time, whoever opened which page."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from uuid import UUID, uuid4

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from adapters.bootstrap import Container
from adapters.business_metrics import BusinessMetrics, business_registry
from adapters.http.app import create_app
from adapters.http.auth import ApiKeys
from commands import accounts, bad_debt, billing, dunning, methods
from commands.base import Deps
from commands.models import AddCard, CloseAccount, PayBadDebt, RunBilling, Subscribe
from commands.ports import ProcessorUnavailable
from projections.feed import catch_up
from projections.health import HealthProjection
from tests.fakes.builders import customer_ctx, open_cmd, system_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway

TOKEN = "scrape-token-0123"
USD, GBP = 2000, 1800  # pro-monthly-usd, pro-monthly-gbp

pytestmark = pytest.mark.usefixtures("container_gateway")


def account(deps: Deps, currency: str, card: str | None) -> UUID:
    account_id = accounts.open_account(deps, open_cmd(currency=currency), customer_ctx()).account_id
    if card:
        cmd = AddCard(
            account_id=account_id,
            processor_ref=card,
            brand="visa",
            last4="4242",
            exp_month=12,
            exp_year=2030,
        )
        methods.add_card(deps, cmd, customer_ctx())
    return account_id


def subscribe(deps: Deps, account_id: UUID, currency: str, on_session: bool = True) -> None:
    plan = f"pro-monthly-{currency.lower()}"
    cmd = Subscribe(account_id=account_id, plan_id=plan, on_session=on_session)
    billing.subscribe(deps, cmd, customer_ctx())


@dataclass(frozen=True)
class Fleet:
    healthy: UUID
    past_due: UUID
    bad_usd: UUID
    bad_gbp: UUID
    stuck: UUID
    waiting: UUID
    closed: UUID


@pytest.fixture
def fleet(container: Container, gateway: FakeGateway, clock: FixedClock) -> Fleet:
    deps = container.deps
    bad_usd, bad_gbp = account(deps, "USD", "pm_bad_usd"), account(deps, "GBP", "pm_bad_gbp")
    subscribe(deps, bad_usd, "USD")
    subscribe(deps, bad_gbp, "GBP")
    clock.advance(days=31)
    for ref in ("pm_bad_usd", "pm_bad_gbp"):
        gateway.always_decline(ref, "insufficient_funds")
    for _ in range(12):  # the renewal, its four retries, then uncollectible
        report = dunning.run_billing(deps, RunBilling(account_ids=[bad_usd, bad_gbp]), system_ctx())
        assert report.errors == {}
        clock.advance(days=1)
    gateway._always.clear()

    stuck = account(deps, "USD", "pm_stuck")
    gateway.go_down_next("pm_stuck")
    with pytest.raises(ProcessorUnavailable):
        subscribe(deps, stuck, "USD", on_session=False)
    clock.advance(minutes=20)  # past the 15 minutes after which an attempt in flight is stuck

    healthy = account(deps, "USD", "pm_ok")
    subscribe(deps, healthy, "USD")
    past_due = account(deps, "USD", "pm_soft")
    gateway.decline_next("pm_soft", "insufficient_funds")
    subscribe(deps, past_due, "USD", on_session=False)
    waiting = account(deps, "GBP", "pm_3ds")
    gateway.require_action_next("pm_3ds")
    subscribe(deps, waiting, "GBP")
    closed = account(deps, "USD", card=None)
    accounts.close_account(deps, CloseAccount(account_id=closed), customer_ctx())
    catch_up(container.connection, HealthProjection(), container.reader)
    return Fleet(healthy, past_due, bad_usd, bad_gbp, stuck, waiting, closed)


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    container.settings = container.settings.model_copy(
        update={"metrics_token": SecretStr(TOKEN), "metrics_cache_s": 0.0}
    )
    with TestClient(create_app(container, ApiKeys([]))) as test_client:
        yield test_client


Samples = dict[tuple[tuple[str, str], ...], float]


def scrape(client: TestClient) -> dict[str, Samples]:
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200
    return {
        family.name: {tuple(sorted(s.labels.items())): s.value for s in family.samples}
        for family in text_string_to_metric_families(answer.text)
    }


def by(label: str, samples: Samples) -> dict[str, float]:
    return {dict(k)[label]: v for k, v in samples.items()}


def test_each_business_family_has_the_fleets_values(fleet: Fleet, client: TestClient) -> None:
    found = scrape(client)
    assert by("state", found["billing_accounts"]) == {
        "closed": 1,
        "stuck": 1,
        "lifting": 0,
        "bad_debt": 2,
        "past_due": 1,
        "at_risk": 0,
        "healthy": 2,
    }
    assert by("reason", found["billing_stuck_accounts"]) == {
        "attempt_in_flight": 1,
        "dunning_overdue": 0,
        "projection_behind": 0,
        "projection_poisoned": 0,
    }
    assert by("currency", found["billing_bad_debt_minor_units"]) == {"USD": USD, "GBP": GBP}
    # Open: the stuck and the past-due accounts' first invoices, the one waiting for 3-D Secure.
    assert by("currency", found["billing_open_receivable_minor_units"]) == {
        "USD": 2 * USD,
        "GBP": GBP,
    }
    assert found["billing_oldest_attempt_in_flight_age_seconds"] == {(): 20 * 60}
    assert found["billing_payments_waiting_for_customer"] == {(): 1}
    assert found["billing_business_state_read_errors"] == {(): 0}
    assert found["billing_business_state_read_duration_seconds"][()] > 0


def test_the_values_follow_the_read_models_at_each_scrape(
    fleet: Fleet, client: TestClient, container: Container, clock: FixedClock
) -> None:
    assert scrape(client)["billing_payments_waiting_for_customer"] == {(): 1}
    bad_debt.pay_bad_debt(
        container.deps, PayBadDebt(account_id=fleet.bad_gbp), customer_ctx(uuid4())
    )
    catch_up(container.connection, HealthProjection(), container.reader)
    found = scrape(client)
    assert by("currency", found["billing_bad_debt_minor_units"]) == {"USD": USD, "GBP": 0}
    assert by("state", found["billing_accounts"])["bad_debt"] == 1

    clock.advance(days=1)  # the 3-D Secure wait expired; the attempt in flight waited a day more
    found = scrape(client)
    assert found["billing_payments_waiting_for_customer"] == {(): 0}
    assert found["billing_oldest_attempt_in_flight_age_seconds"] == {(): 20 * 60 + 86_400}
    assert by("reason", found["billing_stuck_accounts"])["attempt_in_flight"] == 2


def test_every_process_reports_the_same_values(fleet: Fleet, container: Container) -> None:
    container.settings = container.settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    business = ("billing_accounts", "billing_bad_debt_minor_units", "billing_stuck_accounts")
    scraped = []
    for _ in range(2):  # two API processes over the same database
        with TestClient(create_app(container, ApiKeys([]))) as client:
            found = scrape(client)
            scraped.append({name: found[name] for name in business})
    assert scraped[0] == scraped[1]
    assert by("state", scraped[0]["billing_accounts"])["bad_debt"] == 2


def test_one_read_serves_the_scrapes_of_its_cache_time(container: Container) -> None:
    now = [0.0]
    collector = BusinessMetrics(
        container.connection, container.deps.clock.now, ttl_s=5, monotonic=lambda: now[0]
    )
    registry = business_registry(collector)

    def healthy() -> float | None:
        return registry.get_sample_value("billing_accounts", {"state": "healthy"})

    assert healthy() == 0
    account(container.deps, "USD", card=None)
    catch_up(container.connection, HealthProjection(), container.reader)
    now[0] = 4.9
    assert healthy() == 0  # the read of a moment ago
    now[0] = 5.0
    assert healthy() == 1
