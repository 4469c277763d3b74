"""Rate limits of the browser pages: a signed-in person's page views count against that
person, not against the address they share with colleagues (a support team behind one
NAT); a cookie that names no live session counts against the address, as a wrong key does."""

from __future__ import annotations

from fastapi.testclient import TestClient

from adapters.bootstrap import Container
from adapters.http.app import create_app
from adapters.http.auth import ApiKeyEntry, ApiKeys, hash_key
from adapters.http.console.links import make_link
from ledger.meta import ActorKind

AGENTS = ("agent-ann", "agent-bob")
BASE = "http://testserver"


def _keys() -> ApiKeys:
    return ApiKeys(
        [
            ApiKeyEntry(
                sha256=hash_key(f"key-{agent}-0123456789"),
                id=agent,
                kind=ActorKind.SUPPORT,
                scopes=frozenset({"accounts:read"}),
            )
            for agent in AGENTS
        ]
    )


def _console(container: Container, **limits: str) -> tuple[TestClient, ApiKeys]:
    container.settings = container.settings.model_copy(update={"console_secure_cookies": False})
    container.settings = container.settings.model_copy(update=limits)
    keys = _keys()
    return TestClient(create_app(container, keys), base_url=BASE), keys


def _signed_in(client: TestClient, container: Container, keys: ApiKeys, agent: str) -> None:
    link = make_link(container, keys, agent, "test", BASE)
    assert client.get(link.url).status_code == 200  # the redirect to the home page, followed


def test_colleagues_behind_one_address_each_have_their_own_budget(
    container: Container,
) -> None:
    app_client, keys = _console(container, address_rate_limit="3/minute")
    with app_client as ann, TestClient(app_client.app, base_url=BASE) as bob:
        _signed_in(ann, container, keys, "agent-ann")
        _signed_in(bob, container, keys, "agent-bob")
        views = [c.get("/console/").status_code for _ in range(4) for c in (ann, bob)]
        style = ann.get("/console/static/console.css")
    assert views == [200] * 8  # 10 pages and 2 sign-ins from one address; 3 allowed keyless
    assert style.status_code == 200


def test_a_person_over_their_limit_is_told_in_a_page_and_nothing_else_is_slowed(
    container: Container,
) -> None:
    app_client, keys = _console(container, rate_limit="3/minute")
    with app_client as ann, TestClient(app_client.app, base_url=BASE) as bob:
        _signed_in(ann, container, keys, "agent-ann")  # the home page after sign-in: 1
        views = [ann.get("/console/") for _ in range(3)]
        _signed_in(bob, container, keys, "agent-bob")
        bobs = bob.get("/console/")
    assert [v.status_code for v in views] == [200, 200, 429]
    limited = views[-1]
    assert limited.headers["content-type"].startswith("text/html")
    assert "Too many requests" in limited.text
    assert "agent-ann" in limited.text
    assert bobs.status_code == 200


def test_a_cookie_that_names_no_session_counts_against_the_address(
    container: Container,
) -> None:
    app_client, _ = _console(container, address_rate_limit="2/minute")
    with app_client as guesser:
        guesser.cookies.set("ledger_console", "guessed-session-id")
        answers = [guesser.get("/console/") for _ in range(3)]
    assert [a.status_code for a in answers] == [401, 401, 429]
    assert "Too many requests" in answers[-1].text
