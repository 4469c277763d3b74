"""The payment page in chromium: the app served with the real Stripe adapter on localstripe,
the local siteverify, Redis for payment sessions, and a tiny HTTP server (`StandIns`)
serving the stand-ins of Stripe.js and Turnstile's api.js (tests/browser/standins/) at the
URLs the settings name, plus a page to return to ("the shop")."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from uuid import UUID

import httpx
import pytest
from playwright.sync_api import Page, expect
from pydantic import SecretStr

from adapters.bootstrap import Container, build
from adapters.cli.runtime import store_feed
from adapters.http.auth import SCOPES, ApiKeyEntry, ApiKeys, hash_key
from adapters.settings import Settings
from commands import accounts
from ledger.meta import ActorKind
from tests.braintree_gateway import LocalBraintreeGateway, running_braintree_gateway
from tests.browser.conftest import _serving, app_of
from tests.fakes.builders import open_cmd, service_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.turnstile_server import TurnstileServer
from tests.harness import LocalStripeServer, RedisServer, bound_socket, running_localstripe

STANDINS = Path(__file__).parent / "standins"
SITE_KEY, TURNSTILE_SECRET = "0x4AAAAAAApaypagesite", "0x4AAAAAAApaypagesecret"
SERVICE_KEY = "pay-service-key-0123456789"
PUBLISHABLE_KEY = "pk_test_paypage_standin"
RETURN_PATH = "/shop/"


class StandIns:
    """The stand-ins' server. `turnstile_fails` makes the widget hand out a token the local
    siteverify refuses (a failed check)."""

    def __init__(self, turnstile: TurnstileServer, stripe_api: str) -> None:
        self.turnstile = turnstile
        self.stripe_api = stripe_api
        self.turnstile_fails = False
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())

    @property
    def base(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def return_url(self) -> str:
        return f"{self.base}{RETURN_PATH}done"

    def file(self, name: str) -> bytes:
        text = (STANDINS / name).read_text()
        text = text.replace("__STRIPE_API__", self.stripe_api)
        return text.replace("__STANDIN_BASE__", self.base).encode()

    def token(self, site_key: str) -> str:
        return "refused-by-siteverify" if self.turnstile_fails else self.turnstile.mint(site_key)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        standins = self
        scripts = {
            "/stripe/v3/": "stripe.js",
            "/turnstile/v0/api.js": "turnstile.js",
            "/braintree/client.js": "braintree-client.js",
            "/braintree/paypal-checkout.js": "paypal-checkout.js",
        }

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path in scripts:
                    self._send(200, "application/javascript", standins.file(scripts[url.path]))
                elif url.path == "/turnstile/token":
                    site_key = parse_qs(url.query).get("sitekey", [""])[0]
                    self._send(200, "text/plain", standins.token(site_key).encode())
                elif url.path.startswith(RETURN_PATH):
                    page = (
                        b"<!doctype html><html lang=en><title>Shop</title><h1>Back at the shop</h1>"
                    )
                    self._send(200, "text/html", page)
                else:
                    self._send(404, "text/plain", b"not a stand-in")

            def _send(self, status: int, kind: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        return Handler

    @contextmanager
    def running(self) -> Iterator[StandIns]:
        thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._http.shutdown()
            self._http.server_close()
            thread.join(timeout=5)


@dataclass
class LivePay:
    base_url: str
    container: Container
    standins: StandIns
    turnstile: TurnstileServer

    def open_account(self, name: str = "Ada Lovelace") -> UUID:
        opened = accounts.open_account(self.container.deps, open_cmd(name, "USD"), service_ctx())
        return opened.account_id

    def start(self, account_id: UUID, method: str = "card", **body: Any) -> httpx.Response:
        """The product's server asks for a payment session with a return URL (the customer's
        browser never sees this key)."""
        return self.service(f"/accounts/{account_id}/payment-sessions", method=method, **body)

    def service(self, path: str, **body: Any) -> httpx.Response:
        """A request of the product's server (iAPI, with its service key)."""
        return httpx.post(
            f"{self.base_url}/internal{path}",
            json=body,
            headers={"Authorization": f"Bearer {SERVICE_KEY}"},
            timeout=30,
        )

    def page_url(self, account_id: UUID, method: str = "card", **body: Any) -> str:
        started = self.start(account_id, method, return_url=self.standins.return_url, **body)
        assert started.status_code == 201, started.text
        url: str = started.json()["page_url"]
        return url


@pytest.fixture(scope="package")
def pay_localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripeServer]:
    with running_localstripe(tmp_path_factory.mktemp("localstripe")) as server:
        yield server


@pytest.fixture(scope="package")
def pay_braintree() -> Iterator[LocalBraintreeGateway]:
    with running_braintree_gateway(hang_s=10) as gateway:
        yield gateway


@pytest.fixture
def pay_live(
    database_url: str,
    redis_service: RedisServer,
    clock: FixedClock,
    pay_localstripe: LocalStripeServer,
    pay_braintree: LocalBraintreeGateway,
) -> Iterator[LivePay]:
    pay_localstripe.reset()
    pay_braintree.reset()
    turnstile = TurnstileServer()
    turnstile.site(SITE_KEY, TURNSTILE_SECRET)
    sock = bound_socket()
    port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    with turnstile.running(), StandIns(turnstile, pay_localstripe.url).running() as standins:
        settings = _settings(database_url, redis_service, pay_localstripe, turnstile, standins)
        settings = settings.model_copy(
            update={
                **pay_braintree.ledger_settings(),
                "pay_connect_origins": (*settings.pay_connect_origins, pay_braintree.base_url),
            }
        )
        container = build(settings.model_copy(update={"console_url": base_url}), clock=clock)
        app = app_of(container, ApiKeys([service_key()]))
        with store_feed(container), _serving(app, sock):
            yield LivePay(base_url, container, standins, turnstile)
        container.close()


def _settings(
    database_url: str,
    redis: RedisServer,
    localstripe: LocalStripeServer,
    turnstile: TurnstileServer,
    standins: StandIns,
) -> Settings:
    return Settings(
        database_url=database_url,
        kafka_bootstrap=None,
        pool_size=4,
        redis_url=redis.url,
        stripe_api_key=SecretStr(localstripe.api_key),
        stripe_api_base=localstripe.url,
        stripe_lookup="list",
        stripe_disputes=False,
        stripe_publishable_key=PUBLISHABLE_KEY,
        turnstile_site_key=SITE_KEY,
        turnstile_secret=SecretStr(TURNSTILE_SECRET),
        turnstile_url=turnstile.url,
        pay_stripe_js_url=f"{standins.base}/stripe/v3/",
        pay_braintree_client_js_url=f"{standins.base}/braintree/client.js",
        pay_braintree_paypal_js_url=f"{standins.base}/braintree/paypal-checkout.js",
        pay_turnstile_js_url=f"{standins.base}/turnstile/v0/api.js?render=explicit",
        pay_script_origins=(),
        pay_frame_origins=(),
        pay_connect_origins=(localstripe.url, standins.base),
        return_urls=(f"{standins.base}{RETURN_PATH}",),
        pay_link_secret=SecretStr("pay-page-test-secret"),
    )


def service_key() -> ApiKeyEntry:
    return ApiKeyEntry(
        sha256=hash_key(SERVICE_KEY),
        id="product-page",
        kind=ActorKind.SERVICE,
        scopes=frozenset(SCOPES),
    )


def pass_the_check(page: Page) -> None:
    """Ticks the Turnstile stand-in and waits until it has handed the page its token (a click
    on Pay before that is refused by the page, as a real widget not yet solved would be)."""
    page.get_by_label("Verify you are human (Turnstile test stand-in)").check()
    expect(page.locator("label[data-state=solved]")).to_have_count(1)
