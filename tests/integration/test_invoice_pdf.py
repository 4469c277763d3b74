"""The invoice PDF over HTTP: what the detail view says, the display status included; a
customer reaches only its own; reads wait for a given version (read-your-writes)."""

from __future__ import annotations

import io
from uuid import UUID

from fastapi.testclient import TestClient
from pypdf import PdfReader

from adapters.bootstrap import Container
from commands import billing
from commands.accounts import update_profile
from commands.base import Deps
from commands.models import Subscribe, UpdateProfile
from projections.feed import catch_up
from tests.fakes.billing import PLAN
from tests.fakes.builders import customer_ctx, support_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway
from tests.integration.test_http_invoices import (  # noqa: F401 - fixtures
    CUSTOMER,
    SERVICE,
    SUPPORT,
    accounts,
    auth,
    client,
)
from tests.integration.test_invoice_history import make_bad_debt_recovered


def pdf_text(content: bytes) -> str:
    """pypdf reads the CJK font's two-byte codes with a NUL between characters: dropped."""
    pages = PdfReader(io.BytesIO(content)).pages
    return "\n".join(page.extract_text() for page in pages).replace("\x00", "")


def first_invoice(http: TestClient, account_id: UUID) -> dict[str, object]:
    listed = http.get(f"/internal/accounts/{account_id}/invoices", headers=auth(SERVICE))
    invoice_id = listed.json()["items"][0]["invoice_id"]
    url = f"/internal/accounts/{account_id}/invoices/{invoice_id}"
    detail: dict[str, object] = http.get(url, headers=auth(SERVICE)).json()
    return detail


def test_a_customer_downloads_its_invoice_as_a_pdf_that_matches_the_detail(
    client: TestClient,  # noqa: F811
    accounts: tuple[UUID, UUID],  # noqa: F811
    container: Container,
) -> None:
    own, _ = accounts
    catch_up(container.connection, container.projections["accounts"], container.reader)
    detail = first_invoice(client, own)
    url = f"/v1/accounts/{own}/invoices/{detail['invoice_id']}/pdf"
    response = client.get(url, headers=auth(CUSTOMER))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert f'filename="invoice-{detail["number"]}.pdf"' in response.headers["content-disposition"]
    text = pdf_text(response.content)
    assert f"Invoice {detail['number']}" in text
    assert f"Paid on {str(detail['paid_at'])[:10]} with " in text
    assert "Amount paid" in text
    assert "20.00 USD" in text  # the plan's price, from minor units
    assert "Amount due" not in text  # a customer who paid never reads that they owe
    assert "Payments and refunds" in text
    assert "@example.com" in text  # billed to
    assert "Seller legal name (placeholder" in text  # the seller, from settings


def test_a_customer_cannot_fetch_another_accounts_pdf(
    client: TestClient,  # noqa: F811
    accounts: tuple[UUID, UUID],  # noqa: F811
    container: Container,
) -> None:
    own, other = accounts
    catch_up(container.connection, container.projections["accounts"], container.reader)
    detail = first_invoice(client, other)
    response = client.get(
        f"/v1/accounts/{other}/invoices/{detail['invoice_id']}/pdf", headers=auth(CUSTOMER)
    )
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    missing = client.get(f"/support/accounts/{own}/invoices/in_nope/pdf", headers=auth(SUPPORT))
    assert missing.status_code == 404


def test_a_recovered_bad_debt_pdf_says_recovered_with_both_dates(
    client: TestClient,  # noqa: F811
    accounts: tuple[UUID, UUID],  # noqa: F811
    container: Container,
    deps: Deps,
    clock: FixedClock,
) -> None:
    own, _ = accounts
    gateway = deps.gateway
    assert isinstance(gateway, FakeGateway)
    [bad, *_] = make_bad_debt_recovered(deps, own, clock, gateway)
    for projection in container.projections.values():
        catch_up(container.connection, projection, container.reader)
    url = f"/support/accounts/{own}/invoices/{bad}"
    detail = client.get(url, headers=auth(SUPPORT)).json()
    assert detail["display_status"] == "recovered"
    paid, bad_since = detail["paid_at"][:10], detail["marked_uncollectible_at"][:10]
    support = pdf_text(client.get(f"{url}/pdf", headers=auth(SUPPORT)).content)
    assert f"Paid on {paid} (was uncollectible since {bad_since})" in support
    assert support.count("Paid on") == 1
    assert "Attempt: failed" in support  # support's copy keeps every retry
    assert "Status history" in support
    mine = f"/v1/accounts/{own}/invoices/{bad}/pdf"
    customer = pdf_text(client.get(mine, headers=auth(CUSTOMER)).content)
    assert f"Paid on {paid} (was uncollectible since {bad_since})" in customer
    assert customer.count("Paid on") == 1
    assert "Amount due" not in customer
    assert "failed" not in customer  # the customer's copy: payments, not retries
    assert "Payment" in customer
    theirs = client.get(f"{url}/pdf", params={"copy": "customer"}, headers=auth(SUPPORT))
    assert pdf_text(theirs.content) == customer  # support can see what the customer sees
    service = client.get(f"/internal/accounts/{own}/invoices/{bad}/pdf", headers=auth(SERVICE))
    assert pdf_text(service.content) == customer  # the iAPI hands documents to customers
    asked = client.get(mine, params={"copy": "support"}, headers=auth(CUSTOMER))
    assert pdf_text(asked.content) == customer  # a customer cannot ask for support's copy


def test_reads_wait_for_the_version_a_write_returned(
    client: TestClient,  # noqa: F811
    accounts: tuple[UUID, UUID],  # noqa: F811
    container: Container,
    deps: Deps,
) -> None:
    own, _ = accounts
    for projection in container.projections.values():
        catch_up(container.connection, projection, container.reader)
    cmd = UpdateProfile(account_id=own, name="Renamed Ltd")
    written = update_profile(deps, cmd, support_ctx("ticket 1"))
    base = f"/internal/accounts/{own}"
    follow = _follower(container)
    try:
        health = client.get(
            f"{base}/health", params={"min_version": written.version}, headers=auth(SERVICE)
        )
        invoices = client.get(
            f"{base}/invoices", params={"min_version": written.version}, headers=auth(SERVICE)
        )
    finally:
        follow.stop()
    assert health.status_code == 200
    assert health.json()["version"] >= written.version  # the read waited for the write
    assert invoices.status_code == 200
    invoice_id = invoices.json()["items"][0]["invoice_id"]
    for url, key in [
        (f"{base}/invoices/{invoice_id}", SERVICE),
        (f"{base}/invoices/{invoice_id}/pdf", SERVICE),
        (f"/support/accounts/{own}/health", SUPPORT),
        (f"/support/accounts/{own}/invoices/{invoice_id}", SUPPORT),
        (f"/v1/accounts/{own}/invoices", CUSTOMER),
        (f"/v1/accounts/{own}/invoices/{invoice_id}", CUSTOMER),
    ]:
        answer = client.get(url, params={"min_version": written.version}, headers=auth(key))
        assert answer.status_code == 200, (url, answer.text)
    with container.connection() as conn:
        versions = dict(
            conn.execute(
                "SELECT projection, version FROM projection_streams WHERE stream_id = %s", (own,)
            ).fetchall()
        )
    assert versions["health"] >= written.version
    assert versions["invoices"] >= written.version
    bad = client.get(f"{base}/health", params={"min_version": 0}, headers=auth(SERVICE))
    assert bad.status_code == 422


class _Follower:
    def __init__(self, container: Container) -> None:
        import threading

        from projections.feed import follow

        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=follow,
            args=(
                container.connection,
                list(container.projections.values()),
                container.reader,
                self._stop,
            ),
            kwargs={"idle_wait_s": 0.2},
            daemon=True,
        )
        self._started_after_delay = threading.Timer(0.3, self._thread.start)
        self._started_after_delay.start()

    def stop(self) -> None:
        self._started_after_delay.cancel()
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)


def _follower(container: Container) -> _Follower:
    """The store feed, started 0.3 s late: a read that did not wait would see old rows."""
    return _Follower(container)


def test_a_version_never_reached_times_out_into_what_the_model_has(
    client: TestClient,  # noqa: F811
    accounts: tuple[UUID, UUID],  # noqa: F811
    container: Container,
) -> None:
    """As the account read: after the bounded wait, the current rows, not an error."""
    own, _ = accounts
    for projection in container.projections.values():
        catch_up(container.connection, projection, container.reader)
    base, far = f"/internal/accounts/{own}", {"min_version": 10_000}
    plain = client.get(f"{base}/invoices", headers=auth(SERVICE)).json()
    waited = client.get(f"{base}/invoices", params=far, headers=auth(SERVICE))
    assert (waited.status_code, waited.json()) == (200, plain)
    health = client.get(f"{base}/health", params=far, headers=auth(SERVICE))
    assert health.status_code == 200
    assert health.json()["version"] < 10_000
    account = client.get(base, params=far, headers=auth(SERVICE))
    assert account.status_code == 200  # the account route behaves the same way


def test_a_pdf_is_never_stored_by_caches_nor_sniffed(
    client: TestClient,  # noqa: F811
    accounts: tuple[UUID, UUID],  # noqa: F811
    container: Container,
) -> None:
    own, _ = accounts
    catch_up(container.connection, container.projections["accounts"], container.reader)
    detail = first_invoice(client, own)
    response = client.get(
        f"/v1/accounts/{own}/invoices/{detail['invoice_id']}/pdf", headers=auth(CUSTOMER)
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


def test_the_pdf_keeps_the_billing_details_of_its_issue_and_names_in_any_script(
    client: TestClient,  # noqa: F811
    accounts: tuple[UUID, UUID],  # noqa: F811
    container: Container,
    deps: Deps,
    clock: FixedClock,
) -> None:
    own, _ = accounts
    for projection in container.projections.values():
        catch_up(container.connection, projection, container.reader)
    issued = first_invoice(client, own)
    before = pdf_text(_pdf(client, own, str(issued["invoice_id"])))
    clock.advance(minutes=1)
    renamed = UpdateProfile(account_id=own, name="王小明", tax_id="GB123456789")
    update_profile(deps, renamed, support_ctx("ticket 2"))
    clock.advance(minutes=1)
    cmd = Subscribe(account_id=own, plan_id=PLAN, on_session=True)
    billing.subscribe(deps, cmd, customer_ctx())
    for projection in container.projections.values():
        catch_up(container.connection, projection, container.reader)
    old = pdf_text(_pdf(client, own, str(issued["invoice_id"])))
    assert "王小明" not in old  # issued before the change: the details of its issue
    assert old == before
    new = first_invoice(client, own)
    assert new["invoice_id"] != issued["invoice_id"]
    text = pdf_text(_pdf(client, own, str(new["invoice_id"])))
    assert "王小明" in text  # a new invoice: the new name, in its own script
    assert "GB123456789" in text


def test_a_row_projected_before_its_issuing_version_was_kept_finds_it_by_time(
    client: TestClient,  # noqa: F811
    accounts: tuple[UUID, UUID],  # noqa: F811
    container: Container,
    deps: Deps,
    clock: FixedClock,
) -> None:
    own, _ = accounts
    for projection in container.projections.values():
        catch_up(container.connection, projection, container.reader)
    with container.connection() as conn:
        conn.execute("UPDATE invoices SET detail = detail - 'finalized_version'")
    issued = first_invoice(client, own)
    assert issued["finalized_version"] is None
    clock.advance(minutes=1)
    update_profile(deps, UpdateProfile(account_id=own, name="Иван Петров"), support_ctx("t 3"))
    catch_up(container.connection, container.projections["accounts"], container.reader)
    text = pdf_text(_pdf(client, own, str(issued["invoice_id"])))
    assert "Иван Петров" not in text  # the last version at or before its finalisation
    assert "Payments and refunds" in text


def _pdf(client: TestClient, account_id: UUID, invoice_id: str) -> bytes:  # noqa: F811
    url = f"/v1/accounts/{account_id}/invoices/{invoice_id}/pdf"
    response = client.get(url, headers=auth(CUSTOMER))
    assert response.status_code == 200, response.text
    return bytes(response.content)
