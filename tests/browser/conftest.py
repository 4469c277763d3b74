"""Browser tests: the real app served by uvicorn on a loopback port (in a thread, against
the harness's PostgreSQL and Redis, read models fed from the store), driven by Playwright
through Debian's chromium (tests/harness/chromium.py). Nothing here ever skips: a missing
chromium fails the tests."""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

from adapters.bootstrap import Container, build
from adapters.cli.runtime import store_feed
from adapters.http.app import create_app
from adapters.http.auth import ApiKeyEntry, ApiKeys, hash_key
from adapters.http.console.links import make_link
from adapters.http.console.sessions import ConsoleSessions
from adapters.http.ratelimit import RateLimiter
from adapters.postgres.api_keys import PostgresKeys
from adapters.settings import Settings
from ledger.meta import ActorKind
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway
from tests.harness import RedisServer, bound_socket
from tests.harness.chromium import CHROMIUM_ARGS, chromium_path

AXE = Path(__file__).parent / "vendor" / "axe.min.js"  # see vendor/README.md
SERIOUS = ("serious", "critical")
SUPPORT = "agent-ada"
CUSTOMER = "customer-carl"
READER = "agent-rita"  # a support principal without the write scopes
DASHBOARD = "https://dashboard.example.com"  # the billing pages' allowed return origin
KEYS = {
    SUPPORT: ("support-key-0123456789", ActorKind.SUPPORT, None),
    READER: ("reader-key-0123456789", ActorKind.SUPPORT, None),
    CUSTOMER: ("customer-key-0123456789", ActorKind.CUSTOMER, UUID(int=7)),
    "front-door": ("service-key-0123456789", ActorKind.SERVICE, None),
}

READS = frozenset({"accounts:read", "console:links", "portal:sessions"})
WRITES = frozenset({"accounts:write", "billing:write", "billing:run"})  # SUPPORT's actions


def key_entries() -> list[ApiKeyEntry]:
    return [
        ApiKeyEntry(
            sha256=hash_key(key),
            id=principal,
            kind=kind,
            scopes=READS | (WRITES if principal == SUPPORT else frozenset()),
            account_id=account,
        )
        for principal, (key, kind, account) in KEYS.items()
    ]


@dataclass
class LiveConsole:
    """The app served on a loopback port, and what a test needs to drive it."""

    base_url: str
    app: FastAPI
    container: Container
    keys: ApiKeys

    @property
    def sessions(self) -> ConsoleSessions:
        sessions: ConsoleSessions = self.app.state.console_sessions
        return sessions

    def link(self, principal_id: str = SUPPORT) -> str:
        return make_link(self.container, self.keys, principal_id, "test", self.base_url).url

    def url(self, path: str) -> str:
        return self.base_url + path

    def caught_up(self) -> None:
        """Waits until the store feed has applied everything written so far."""
        caught_up(self.container)


def caught_up(container: Container) -> None:
    """Waits until the container's store feed has applied everything written so far."""
    head = container.reader.head()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with container.connection() as conn:
            row = conn.execute(
                "SELECT count(*), min(feed_position) FROM projection_positions"
                " WHERE projection = ANY(%s)",
                (list(container.projections),),
            ).fetchone()
        if row is not None and row[0] == len(container.projections) and row[1] >= head:
            return
        time.sleep(0.05)
    raise AssertionError(f"read models did not reach position {head}")


def serious_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical accessibility violations on the page as it is
    (injected through the devtools protocol, which the console's CSP does not govern)."""
    page.evaluate(AXE.read_text())
    found: list[dict[str, Any]] = page.evaluate(
        """async (serious) => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations
                .filter(v => serious.includes(v.impact))
                .map(v => ({id: v.id, impact: v.impact, help: v.help,
                            nodes: v.nodes.map(n => n.target.join(" "))}));
        }""",
        list(SERIOUS),
    )
    return found


# Package scope, not session: Playwright's sync API keeps an event loop running in this
# thread while it is open, and every later test that calls asyncio.run would fail.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(
        executable_path=chromium_path(), headless=True, args=list(CHROMIUM_ARGS)
    )
    yield launched
    launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    opened = context.new_page()
    opened.set_default_timeout(10_000)
    yield opened
    context.close()


@pytest.fixture
def live(
    database_url: str, redis_service: RedisServer, clock: FixedClock, gateway: FakeGateway
) -> Iterator[LiveConsole]:
    """The app on a free loopback port; its commands charge through the scripted fake
    gateway (tests build accounts with `live.container.deps`)."""
    sock = bound_socket()
    port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=database_url,
        kafka_bootstrap=None,
        redis_url=redis_service.url,
        pool_size=4,
        console_url=base_url,
        return_urls=(DASHBOARD,),
    )
    container = build(settings, clock=clock)
    container.deps = dataclasses.replace(container.deps, gateway=gateway)
    keys = ApiKeys(key_entries(), PostgresKeys(container.connection), cache_s=0)
    app = app_of(container, keys)
    with store_feed(container), _serving(app, sock):
        yield LiveConsole(base_url, app, container, keys)
    container.close()


def app_of(container: Container, keys: ApiKeys) -> FastAPI:
    """The app with rate limits counted under a namespace of its own in the harness's one
    Redis: each test meets the limits as a fresh deployment would, not what earlier tests
    from the same loopback address used up."""
    settings = container.settings
    namespace = f"test-{uuid4().hex}"
    return create_app(
        container,
        keys,
        RateLimiter(settings.rate_limit, settings.redis_url, namespace),
        RateLimiter(
            settings.address_rate_limit, settings.redis_url, f"{namespace}:address", "address"
        ),
    )


@contextmanager
def _serving(app: FastAPI, sock: socket.socket) -> Iterator[None]:
    """uvicorn in a thread (it installs no signal handlers off the main thread), on a socket
    bound before the app was built (`bound_socket`: no other process can take its port)."""
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="console-uvicorn", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"uvicorn did not start on port {port}")
        time.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


from tests.browser.pay import pay_braintree, pay_live, pay_localstripe  # noqa: E402, F401
