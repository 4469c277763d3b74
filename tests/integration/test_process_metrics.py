"""Per-process metrics of the edge, read from the real app's `/metrics` after real requests:
webhooks received, duplicate and rejected (signed deliveries to the app, a refund made at
localstripe), Turnstile checks passed, failed and unavailable (the local siteverify
stand-in, through the payment flow), a processor's circuit breaker opening (Stripe
unreachable), and 429s by surface and limit. The counters are the process's, shared by the
tests: each test compares a scrape after its requests with one before."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID, uuid4

import pytest
import stripe
from fastapi.testclient import TestClient
from pydantic import SecretStr

from adapters.bootstrap import Container
from adapters.http.app import create_app
from adapters.http.auth import SCOPES, ApiKeyEntry, ApiKeys, hash_key
from adapters.http.ratelimit import RateLimiter
from ledger.meta import ActorKind
from tests.braintree_gateway import LocalBraintreeGateway
from tests.fakes.clock import FixedClock
from tests.fakes.turnstile_server import TurnstileServer
from tests.harness import LocalStripeServer
from tests.integration.test_http_metrics import TOKEN, Series, counted, labels, series
from tests.integration.test_http_page_limits import BASE, _console, _signed_in
from tests.integration.test_payment_flow import (
    CUSTOMER,
    SITE_KEY,
    Api,
    api,
    as_,
    card_session,
    open_account,
    settings,
    stripe_down,
    turnstile,
    wired,
)
from tests.integration.test_stripe_gateway import sdk_client
from tests.integration.test_stripe_webhook_refunds_disputes import charge_of, event, paid
from tests.integration.test_stripe_webhooks import hooked, signed
from tests.integration.test_webhooks_malformed import braintree_signed, notification

__all__ = ["api", "hooked", "settings", "stripe_down", "turnstile", "wired"]  # fixtures
SERVICE = "svc-procs-0123456789"


def scraping(container: Container) -> TestClient:
    """The app over `container`, its `/metrics` open to the scraper's token."""
    container.settings = container.settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    return TestClient(create_app(container, ApiKeys([])))


def scrape(client: TestClient, *samples: str) -> dict[str, Series]:
    return {sample: series(client, sample) for sample in samples}


def grown(client: TestClient, before: dict[str, Series]) -> dict[str, Series]:
    return {sample: counted(was, series(client, sample)) for sample, was in before.items()}


# --- webhooks --------------------------------------------------------------------------

WEBHOOKS = (
    "billing_webhooks_received_total",
    "billing_webhooks_duplicate_total",
    "billing_webhooks_rejected_total",
)


def test_stripe_deliveries_are_counted_received_duplicate_and_rejected(
    hooked: Container, localstripe: LocalStripeServer
) -> None:
    sdk = sdk_client(localstripe)
    _, _, intent_id = paid(hooked, sdk)
    sdk.v1.refunds.create({"payment_intent": intent_id, "amount": 700})  # at the dashboard
    refunded = event("charge.refunded", charge_of(sdk, intent_id))
    unhandled = event("customer.subscription.created", {"id": "sub_1"})
    with scraping(hooked) as client:
        before = scrape(client, *WEBHOOKS)
        outcomes = [deliver(client, e) for e in (refunded, refunded, unhandled)]
        body, headers = signed(refunded, secret="whsec_someone_else")
        forged = client.post("/webhooks/stripe", content=body, headers=headers)
        found = grown(client, before)
    assert outcomes == ["recorded", "already_recorded", "ignored"]
    assert forged.status_code == 400
    assert found == {
        "billing_webhooks_received_total": {
            labels(provider="stripe", type="charge.refunded"): 2,
            labels(provider="stripe", type="other"): 1,  # a type the ledger does not handle
        },
        "billing_webhooks_duplicate_total": {labels(provider="stripe", type="charge.refunded"): 1},
        "billing_webhooks_rejected_total": {
            labels(provider="stripe", reason="invalid_signature"): 1
        },
    }


def deliver(client: TestClient, delivered: dict[str, Any]) -> str:
    body, headers = signed(delivered)
    answer = client.post("/webhooks/stripe", content=body, headers=headers)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["outcome"])


def test_braintree_deliveries_are_counted_by_kind(
    paypal_container: Container, braintree_server: LocalBraintreeGateway, clock: FixedClock
) -> None:
    with scraping(paypal_container) as client:
        before = scrape(client, *WEBHOOKS)
        check = braintree_signed(braintree_server, notification("check", "", clock.now()))
        answer = client.post("/webhooks/braintree", data=check)
        found = grown(client, before)
    assert (answer.status_code, answer.json()["outcome"]) == (200, "acknowledged")
    assert found == {
        "billing_webhooks_received_total": {labels(provider="braintree", type="check"): 1},
        "billing_webhooks_duplicate_total": {},
        "billing_webhooks_rejected_total": {},
    }


# --- Turnstile -------------------------------------------------------------------------

TURNSTILE = "billing_turnstile_verifications_total"


def test_turnstile_checks_are_counted_passed_failed_and_unavailable(
    api: Api, localstripe: LocalStripeServer, turnstile: TurnstileServer
) -> None:
    account_id, _ = open_account(api.client())
    api.container.settings = api.container.settings.model_copy(
        update={"metrics_token": SecretStr(TOKEN)}
    )
    client, sdk = api.client(account_id), sdk_client(localstripe)
    before = series(client, TURNSTILE)
    outcomes = {dict(key)["outcome"] for key in before}
    assert outcomes == {"passed", "failed", "unavailable"}  # every series from the start
    statuses = [
        complete(client, account_id, sdk, turnstile.mint(SITE_KEY)),
        complete(client, account_id, sdk, "not-a-token"),
    ]
    turnstile.fail_next(10)  # siteverify answers 500 to every retry
    statuses.append(complete(client, account_id, sdk, turnstile.mint(SITE_KEY)))
    found = counted(before, series(client, TURNSTILE))
    assert statuses == [(200, None), (403, "human_check_failed"), (503, "human_check_unavailable")]
    assert found == {
        labels(outcome="passed"): 1,
        labels(outcome="failed"): 1,
        labels(outcome="unavailable"): 1,
    }


def complete(
    client: TestClient, account_id: UUID, sdk: stripe.StripeClient, token: str
) -> tuple[int, str | None]:
    """A card session started and completed with `token`: (status, problem code)."""
    session, pm = card_session(client, account_id, sdk)
    answer = client.post(
        f"/v1/accounts/{account_id}/payment-sessions/{session}/complete",
        json={"turnstile_token": token, "payment_method": pm},
        headers=as_(CUSTOMER),
    )
    code = None if answer.status_code == 200 else answer.json()["code"]
    return answer.status_code, code


# --- processor circuit breakers --------------------------------------------------------

STATE, OPENED = "billing_processor_breaker_state", "billing_processor_breaker_opened_total"


PROCESSORS = ("stripe", "braintree")  # the process's registry may hold other tests' breakers


def breaker(client: TestClient) -> dict[str, dict[str, float]]:
    """Each processor's state series, by state."""
    states: dict[str, dict[str, float]] = {}
    for key, value in series(client, STATE).items():
        found = dict(key)
        if found["processor"] in PROCESSORS:
            states.setdefault(found["processor"], {})[found["state"]] = value
    return states


def openings(client: TestClient) -> Series:
    return {k: v for k, v in series(client, OPENED).items() if dict(k)["processor"] in PROCESSORS}


def test_a_breaker_opens_after_consecutive_failures_of_an_unreachable_processor(
    stripe_down: Api,
) -> None:
    stripe_down.container.settings = stripe_down.container.settings.model_copy(
        update={"metrics_token": SecretStr(TOKEN)}
    )
    client = stripe_down.client()
    closed = {"closed": 1.0, "open": 0.0, "half_open": 0.0}
    # every configured processor's series exist from the start
    assert breaker(client) == {"stripe": closed, "braintree": closed}
    opened_before = openings(client)
    assert set(opened_before) == {labels(processor="stripe"), labels(processor="braintree")}
    syncs = []
    for _ in range(3):  # 3 tries each: the 5th failure opens the circuit, the 3rd call fails fast
        syncs.append(open_account(client)[1]["customer_sync"])
        if len(syncs) == 1:
            assert breaker(client)["stripe"] == closed  # 3 failures: not yet
    assert syncs == [{"stripe": "pending"}] * 3
    assert breaker(client) == {
        "stripe": {"closed": 0.0, "open": 1.0, "half_open": 0.0},
        "braintree": closed,
    }
    assert counted(opened_before, openings(client)) == {labels(processor="stripe"): 1}


# --- rate limits -----------------------------------------------------------------------

LIMITED = "billing_rate_limited_requests_total"


@pytest.fixture
def limited(container: Container) -> Iterator[TestClient]:
    """The app with 2 requests a minute per address and per principal."""
    container.settings = container.settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    namespace = f"test:{uuid4().hex[:8]}"
    service = ApiKeyEntry(
        sha256=hash_key(SERVICE), id="svc-1", kind=ActorKind.SERVICE, scopes=frozenset(SCOPES)
    )
    app = create_app(
        container,
        ApiKeys([service]),
        rate_limiter=RateLimiter("2/minute", None, namespace),
        address_limiter=RateLimiter("2/minute", None, f"{namespace}:address", name="address"),
    )
    with TestClient(app) as client:
        yield client


def test_429s_are_counted_by_surface_and_the_limit_that_refused_them(
    limited: TestClient,
) -> None:
    before = series(limited, LIMITED)  # the scrape carries a key: no address limit
    anonymous = [limited.get("/internal/accounts").status_code for _ in range(3)]
    keyed = as_(SERVICE)
    health = f"/internal/accounts/{uuid4()}/health"
    by_key = [limited.get(health, headers=keyed).status_code for _ in range(3)]
    found = counted(before, series(limited, LIMITED))
    assert (anonymous, by_key) == ([401, 401, 429], [404, 404, 429])
    assert found == {
        labels(surface="iapi", limit="address"): 1,
        labels(surface="iapi", limit="principal"): 1,
    }


def test_a_browser_sessions_429_is_counted_against_the_session(container: Container) -> None:
    container.settings = container.settings.model_copy(update={"metrics_token": SecretStr(TOKEN)})
    app_client, keys = _console(container, rate_limit="3/minute", address_rate_limit="3/minute")
    with app_client as ann, TestClient(app_client.app, base_url=BASE) as guesser:
        before = series(ann, LIMITED)
        # the link counts against the address (1 of 3), the home page after it against Ann
        _signed_in(ann, container, keys, "agent-ann")
        views = [ann.get("/console/").status_code for _ in range(3)]
        guesser.cookies.set("ledger_console", "guessed-session-id")
        guesses = [guesser.get("/console/").status_code for _ in range(3)]
        found = counted(before, series(ann, LIMITED))
    assert (views, guesses) == ([200, 200, 429], [401, 401, 429])
    assert found == {
        labels(surface="console", limit="session"): 1,
        labels(surface="console", limit="address"): 1,  # a cookie naming no live session
    }
