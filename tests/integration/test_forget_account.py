"""Forgetting an account on real PostgreSQL: afterwards no table holds its personal data in
clear, read models, search, history and the invoice PDF read as erased, the audit chain
verifies, rebuilds and recompute work, and the money history is what it was. Accounts
written by today's code before sealing (personal fields in clear) still read, are sealed in
place by `ledger accounts encrypt-personal-data` (the chain recomputed and verified), and
can be forgotten too."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any
from uuid import UUID

import psycopg
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from adapters.bootstrap import Container
from adapters.cli.main import app as cli
from adapters.http.app import create_app
from adapters.http.auth import SCOPES, ApiKeyEntry, ApiKeys, hash_key
from adapters.postgres.audit import verify
from commands import accounts, billing, methods
from commands.application import LedgerApplication
from commands.base import Deps, load_account
from commands.models import AddCard, AddPayPal, OpenAccount, Subscribe, UpdateProfile
from ledger.meta import ActorKind
from ledger.personal import ERASED, ERASED_EMAIL
from projections.feed import catch_up
from queries.search import search_accounts
from tests.fakes.billing import PLAN
from tests.fakes.builders import customer_ctx, service_ctx
from tests.fakes.clock import FixedClock
from tests.integration.test_invoice_pdf import pdf_text

pytestmark = pytest.mark.usefixtures("configured", "container_gateway")
runner = CliRunner()
SUPPORT, CUSTOMER = "sup-key-0123456789", "cust-key-0123456789"


@dataclasses.dataclass(frozen=True)
class Person:
    name: str
    email: str
    tax_id: str
    payer_email: str

    @property
    def secrets(self) -> tuple[str, ...]:
        return (self.name, self.email, self.tax_id, self.payer_email)


ZELDA = Person("Zelda Quixote", "zelda.quixote@forget.example", "GB987654321", "zq@pp.example")
YORICK = Person("Yorick Legacy", "yorick.legacy@forget.example", "GB192837465", "yl@pp.example")
KEPT = Person("Kept Customer", "kept.customer@stays.example", "GB555555555", "kc@pp.example")


def ok(*args: str) -> str:
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def customer(deps: Deps, person: Person, clock: FixedClock) -> UUID:
    """An account with a PayPal method and a card, subscribed (a paid invoice)."""
    cmd = OpenAccount(
        name=person.name, email=person.email, country="GB", currency="USD", tax_id=person.tax_id
    )
    account_id = accounts.open_account(deps, cmd, service_ctx()).account_id
    paypal = AddPayPal(
        account_id=account_id,
        token=f"bt_{account_id.hex[:8]}",
        billing_agreement_id="B-1",
        payer_email=person.payer_email,
        make_default=False,
    )
    methods.add_paypal(deps, paypal, customer_ctx())
    card = AddCard(
        account_id=account_id,
        processor_ref=f"pm_{account_id.hex[:8]}",
        brand="visa",
        last4="4242",
        exp_month=12,
        exp_year=2030,
    )
    methods.add_card(deps, card, customer_ctx())
    clock.advance(minutes=1)
    billing.subscribe(deps, Subscribe(account_id=account_id, plan_id=PLAN), customer_ctx())
    return account_id


@pytest.fixture
def legacy_deps(container: Container, deps: Deps) -> Iterator[Deps]:
    """Today's code before sealing: an application that stores personal fields in clear."""
    plain = LedgerApplication(env=container.db.eventsourcing_env(2))
    yield dataclasses.replace(deps, app=plain)
    plain.close()


def project_all(container: Container) -> None:
    for projection in container.projections.values():
        catch_up(container.connection, projection, container.reader)


def text_of_every_table(database_url: str) -> dict[str, str]:
    """Every table of every schema but the system's, each row as text (bytea as bytes
    decoded leniently, so sealed or clear JSON in the event store is searched too)."""
    found: dict[str, str] = {}
    with psycopg.connect(database_url) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables"
            " WHERE table_type = 'BASE TABLE'"
            " AND table_schema NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        for schema, table in tables:
            rows = conn.execute(f'SELECT * FROM "{schema}"."{table}"').fetchall()
            found[f"{schema}.{table}"] = "\n".join(_text(row) for row in rows)
    return found


def _text(row: tuple[Any, ...]) -> str:
    return " ".join(
        bytes(v).decode("utf-8", "replace") if isinstance(v, bytes | memoryview) else str(v)
        for v in row
    )


def where_found(database_url: str, person: Person) -> list[tuple[str, str]]:
    tables = text_of_every_table(database_url)
    return [(t, s) for t, text in tables.items() for s in person.secrets if s in text]


@pytest.fixture
def http(container: Container) -> Iterator[TestClient]:
    def entry(key: str, kind: ActorKind, **extra: UUID) -> ApiKeyEntry:
        return ApiKeyEntry(
            sha256=hash_key(key), id=f"{kind.value}-1", kind=kind, scopes=frozenset(SCOPES), **extra
        )

    keys = ApiKeys([entry(SUPPORT, ActorKind.SUPPORT)])
    with TestClient(create_app(container, keys)) as client:
        yield client


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_a_forgotten_account_leaves_no_personal_data_in_clear_and_its_money_intact(
    container: Container, deps: Deps, clock: FixedClock, database_url: str
) -> None:
    zelda = customer(deps, ZELDA, clock)
    customer(deps, KEPT, clock)
    project_all(container)
    deps.app.take_snapshot(zelda)  # snapshots are not sealed: forgetting deletes them
    before = load_account(deps.app, zelda)
    found = {t for t, _ in where_found(database_url, ZELDA)}
    assert found >= {"public.accounts", "public.ledger_snapshots"}  # copies in clear before
    assert "public.ledger_events" not in found  # the events hold it sealed

    out = ok("accounts", "forget", str(zelda), "--reason", "erasure request, ticket 42")
    assert re.search(rf"forgot {zelda} at version \d+", out)
    project_all(container)

    assert where_found(database_url, ZELDA) == []
    assert {s for _, s in where_found(database_url, KEPT)} == set(KEPT.secrets)
    after = load_account(deps.app, zelda)
    assert (after.profile.name, after.profile.email, after.profile.tax_id) == (
        ERASED,
        ERASED_EMAIL,
        None,
    )
    assert after.invoices == before.invoices
    assert after.receivable == before.receivable
    assert [a.amount for a in after.attempts.values()] == [
        a.amount for a in before.attempts.values()
    ]
    with container.connection() as conn:
        assert verify(conn).ok
        assert search_accounts(conn, "Zelda").hits == ()
        [hit] = search_accounts(conn, str(zelda)).hits
        assert (hit.name, hit.email) == (ERASED, ERASED_EMAIL)
    assert "Zelda" not in ok("accounts", "show", str(zelda))
    assert "forgotten already" in ok("accounts", "forget", str(zelda), "--reason", "again")
    ok("projections", "rebuild", "all")
    ok("accounts", "recompute", str(zelda), "--reason", "after forgetting")
    assert where_found(database_url, ZELDA) == []
    ok("audit", "verify")


def test_the_invoice_pdf_and_history_of_a_forgotten_account_read_erased(
    container: Container, deps: Deps, clock: FixedClock, http: TestClient
) -> None:
    zelda = customer(deps, ZELDA, clock)
    project_all(container)
    body = {"reason": "erasure request"}
    answer = http.post(f"/support/accounts/{zelda}/forget", json={}, headers=auth(SUPPORT))
    assert answer.status_code == 422, answer.text  # a reason is required
    answer = http.post(f"/support/accounts/{zelda}/forget", json=body, headers=auth(SUPPORT))
    assert answer.status_code == 200, answer.text
    project_all(container)
    listed = http.get(f"/support/accounts/{zelda}/invoices", headers=auth(SUPPORT)).json()
    invoice_id = listed["items"][0]["invoice_id"]
    pdf = http.get(f"/support/accounts/{zelda}/invoices/{invoice_id}/pdf", headers=auth(SUPPORT))
    assert pdf.status_code == 200, pdf.text
    text = pdf_text(pdf.content)
    assert ERASED in text
    assert "20.00 USD" in text
    for secret in ZELDA.secrets:
        assert secret not in text
    history = http.get(f"/support/accounts/{zelda}/history", headers=auth(SUPPORT))
    assert history.status_code == 200, history.text
    assert "AccountForgotten" in history.text
    assert "erasure request" in history.text
    for secret in ZELDA.secrets:
        assert secret not in history.text


def test_accounts_stored_in_clear_are_sealed_in_place_and_can_be_forgotten(
    container: Container, deps: Deps, legacy_deps: Deps, clock: FixedClock, database_url: str
) -> None:
    yorick = customer(legacy_deps, YORICK, clock)
    zelda = customer(deps, ZELDA, clock)
    found = where_found(database_url, YORICK)
    assert "public.ledger_events" in {t for t, _ in found}  # stored in clear, as today
    legacy = load_account(deps.app, yorick)  # today's events read with sealing on
    assert legacy.profile.name == YORICK.name
    accounts.update_profile(
        deps,
        UpdateProfile(account_id=yorick, email="yorick.new@forget.example"),
        service_ctx(),
    )

    out = ok("accounts", "encrypt-personal-data")
    assert "sealed 2 events of 2 accounts" in out, out  # opened, PayPal added
    assert "public.ledger_events" not in {t for t, _ in where_found(database_url, YORICK)}
    assert load_account(deps.app, yorick).profile == dataclasses.replace(
        legacy.profile, email="yorick.new@forget.example"
    )
    with container.connection() as conn:
        assert verify(conn).ok
        rewrites = conn.execute("SELECT DISTINCT originator_id FROM event_rewrites").fetchall()
    assert rewrites == [(yorick,)]
    assert "sealed 0 events" in ok("accounts", "encrypt-personal-data")

    ok("accounts", "forget", str(yorick), "--reason", "erasure request")
    project_all(container)
    assert where_found(database_url, YORICK) == []
    assert load_account(deps.app, zelda).profile.name == ZELDA.name
    ok("audit", "verify")


def test_forgetting_an_account_stored_in_clear_seals_it_first(
    container: Container, legacy_deps: Deps, clock: FixedClock, database_url: str
) -> None:
    yorick = customer(legacy_deps, YORICK, clock)
    project_all(container)
    ok("accounts", "forget", str(yorick), "--reason", "erasure request")
    project_all(container)
    assert where_found(database_url, YORICK) == []
    ok("audit", "verify")
