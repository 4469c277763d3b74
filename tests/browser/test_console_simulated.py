"""The console says when the ledger charges through the simulated processor: a label in the
header of every page, and "simulated" beside the processor customers of an account (never a
link to Stripe's dashboard, which does not know them). Without it, neither shows."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import pytest
from playwright.sync_api import Page, expect

from adapters.bootstrap import build
from adapters.cli.runtime import store_feed
from adapters.http.auth import ApiKeys
from adapters.postgres.api_keys import PostgresKeys
from adapters.settings import Settings
from commands import methods
from commands.models import LinkProviderCustomer
from ledger.payments import Processor
from tests.browser.conftest import (
    LiveConsole,
    _serving,
    app_of,
    key_entries,
    serious_violations,
)
from tests.fakes.billing import usd_account
from tests.fakes.builders import service_ctx
from tests.fakes.clock import FixedClock
from tests.harness import RedisServer, bound_socket


@pytest.fixture
def simulated(
    database_url: str, redis_service: RedisServer, clock: FixedClock
) -> Iterator[LiveConsole]:
    """The app with the simulated processor wired, as the embedded default has it."""
    sock = bound_socket()
    port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=database_url,
        kafka_bootstrap=None,
        redis_url=redis_service.url,
        pool_size=4,
        console_url=base_url,
        simulated_processor=True,
    )
    container = build(settings, clock=clock)
    assert container.simulated is not None
    keys = ApiKeys(key_entries(), PostgresKeys(container.connection), cache_s=0)
    app = app_of(container, keys)
    with store_feed(container), _serving(app, sock):
        yield LiveConsole(base_url, app, container, keys)
    container.close()


def linked_account(live: LiveConsole, stripe_id: str) -> str:
    account_id = usd_account(live.container.deps, card=None)
    link = LinkProviderCustomer(
        account_id=account_id, processor=Processor.STRIPE, customer_id=stripe_id
    )
    methods.link_provider_customer(live.container.deps, link, service_ctx())
    live.caught_up()
    return f"/console/accounts/{account_id}"


def test_every_page_says_the_processor_is_simulated(page: Page, simulated: LiveConsole) -> None:
    account = linked_account(simulated, "cus_sim_0001")
    page.goto(simulated.url("/console/"))  # not signed in: the label shows already
    expect(page.get_by_test_id("simulated-label")).to_have_text("SIMULATED processor")
    page.goto(simulated.link())
    for path in ("/console/", "/console/fleet", account, f"/console/accounts/{uuid4()}"):
        page.goto(simulated.url(path))
        expect(page.get_by_test_id("simulated-label")).to_be_visible()
    page.goto(simulated.url(account))
    stripe = page.get_by_test_id("stripe-customer")
    expect(stripe).to_have_text("cus_sim_0001 simulated")
    expect(stripe.get_by_role("link")).to_have_count(0)  # Stripe's dashboard does not know it
    assert serious_violations(page) == []


def test_no_label_without_the_simulated_processor(page: Page, live: LiveConsole) -> None:
    assert live.container.simulated is None
    account = linked_account(live, "cus_Ada42")
    page.goto(live.link())
    page.goto(live.url(account))
    expect(page.get_by_test_id("stripe-customer").get_by_role("link")).to_have_text("cus_Ada42")
    expect(page.get_by_test_id("simulated-label")).to_have_count(0)
    expect(page.get_by_test_id("simulated-customer")).to_have_count(0)
