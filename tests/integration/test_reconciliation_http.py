"""Reconciliation over HTTP: localstripe's own signed `customer.updated` delivery leads to
the account being reconciled (drift shown, the profile untouched); support and the
service surface read the stored check; support checks now and repairs with a reason."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from uuid import uuid4

import pytest
import stripe
from fastapi.testclient import TestClient

from adapters.bootstrap import Container
from adapters.http.app import create_app
from adapters.http.auth import ApiKeys
from commands.base import load_account
from ledger.meta import ActorKind
from queries.reconciliation import get_reconciliation
from tests.harness import LocalStripeServer
from tests.integration.test_http import KEYS, auth, entry
from tests.integration.test_reconciliation import synced_account
from tests.integration.test_stripe_gateway import sdk_client
from tests.integration.test_stripe_webhooks import SECRET, hooked, served  # noqa: F401


def register(localstripe: LocalStripeServer, url: str, event: str) -> None:
    form = f"url={url}&secret={SECRET}&events[]={event}".encode()
    hook = f"{localstripe.url}/_config/webhooks/{uuid4().hex}"
    request = urllib.request.Request(hook, data=form, method="POST")  # noqa: S310 - loopback
    request.add_header("Content-Type", "application/x-www-form-urlencoded")
    with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
        assert answer.status == 200


@pytest.fixture
def sdk(localstripe: LocalStripeServer) -> stripe.StripeClient:
    return sdk_client(localstripe)


def test_a_customer_edited_at_stripe_is_reconciled_from_its_webhook_never_written_back(
    hooked: Container,  # noqa: F811
    served: str,  # noqa: F811
    localstripe: LocalStripeServer,
    sdk: stripe.StripeClient,
) -> None:
    account_id, customer, _ = synced_account(hooked, sdk)
    register(localstripe, served, "customer.updated")
    version = load_account(hooked.app, account_id).version
    sdk.v1.customers.update(customer, {"name": "Edited At Stripe"})

    deadline = time.monotonic() + 20
    while True:
        with hooked.connection() as conn:
            view = get_reconciliation(conn, account_id)
        if view is not None and view.findings:
            break
        assert time.monotonic() < deadline, "the customer.updated delivery never reconciled"
        time.sleep(0.2)
    [finding] = view.findings
    assert (finding.kind, finding.subject, finding.processor_value) == (
        "customer_drifted",
        customer,
        "name=Edited At Stripe",
    )
    account = load_account(hooked.app, account_id)
    assert (account.version, account.profile.name) == (version, "Ada Lovelace")
    assert sdk.v1.customers.retrieve(customer).name == "Edited At Stripe"


@pytest.fixture
def client(hooked: Container) -> Iterator[TestClient]:  # noqa: F811
    keys = ApiKeys(
        [
            entry(KEYS["service"], ActorKind.SERVICE),
            entry(KEYS["support"], ActorKind.SUPPORT),
        ]
    )
    with TestClient(create_app(hooked, keys)) as test_client:
        yield test_client


def test_support_checks_reads_and_repairs_and_the_service_reads(
    hooked: Container,  # noqa: F811
    client: TestClient,
    sdk: stripe.StripeClient,
) -> None:
    account_id, customer, _ = synced_account(hooked, sdk)
    path = f"/accounts/{account_id}/reconciliation"
    never = client.get(f"/support{path}", headers=auth("support"))
    assert (never.status_code, never.json()["code"]) == (404, "never_reconciled")

    sdk.v1.customers.update(customer, {"email": "ada@analytical.org"})
    checked = client.post(f"/support{path}", headers=auth("support"))
    assert checked.status_code == 200, checked.text
    [finding] = checked.json()["findings"]
    assert finding["kind"] == "customer_drifted"
    assert [(r["action"], r["processor"]) for r in finding["repairs"]] == [
        ("adopt-customer", "stripe"),
        ("push-customer", "stripe"),
    ]
    line = f'ledger reconcile repair {account_id} %s --processor stripe --reason "..."'
    assert finding["repair"] == f"{line % 'adopt-customer'} | {line % 'push-customer'}"
    read = client.get(f"/internal{path}", headers=auth("service"))
    assert read.status_code == 200
    assert read.json()["by_kind"] == {"customer_drifted": 1}
    assert client.post(f"/internal{path}", headers=auth("service")).status_code == 405

    no_reason = client.post(
        f"/support{path}/repairs", json={"action": "adopt-customer"}, headers=auth("support")
    )
    assert no_reason.status_code == 422
    forbidden = client.post(
        f"/support{path}/repairs",
        json={"action": "adopt-customer", "reason": "x"},
        headers=auth("service"),
    )
    assert forbidden.status_code == 403
    repaired = client.post(
        f"/support{path}/repairs",
        json={"action": "adopt-customer", "reason": "customer changed email at Stripe"},
        headers=auth("support"),
    )
    assert repaired.status_code == 200, repaired.text
    body = repaired.json()
    assert body["reconciliation"]["in_step"] is True
    assert body["subject"] == customer
    assert load_account(hooked.app, account_id).profile.email == "ada@analytical.org"
    stale = client.post(
        f"/support{path}/repairs",
        json={"action": "resolve-attempt", "attempt_id": "nope", "reason": "ticket"},
        headers=auth("support"),
    )
    assert (stale.status_code, stale.json()["code"]) == (404, "payment_attempt_not_found")
