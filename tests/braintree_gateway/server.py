"""The local Braintree gateway: Braintree's XML API over plain HTTP on a loopback port, for
the official SDK (`braintree.Environment(..., is_ssl=False)`).

Routes (under /merchants/{merchant_id}), exactly the calls our adapter makes plus the
testing gateway's `settle`:

    POST   /customers                         create            201 <customer> | 422
    GET    /customers/{id}                    find              200 <customer> | 404
    PUT    /customers/{id}                    update            200 <customer> | 404 | 422
    DELETE /customers/{id}                    delete            200 | 404
    POST   /payment_methods                   vault a nonce     201 <paypal-account> | 422
    POST   /payment_methods/{token}/nonces    make a nonce      201 <payment-method-nonce> | 404
                                                                  | 422
    GET    /payment_methods/any/{token}       find              200 <paypal-account> | 404
    PUT    /payment_methods/any/{token}       make default      200 <paypal-account> | 404
    DELETE /payment_methods/any/{token}       delete            200 | 404
    POST   /transactions                      sale              201 <transaction> | 422
    GET    /transactions/{id}                 find              200 <transaction> | 404
    POST   /transactions/{id}/refund          refund            201 <transaction> | 422 | 404
    PUT    /transactions/{id}/void            void              200 <transaction> | 422 | 404
    PUT    /transactions/{id}/settle          settle (testing)  200 <transaction> | 404
    POST   /transactions/advanced_search_ids  search            200 <search-results>
    POST   /transactions/advanced_search      fetch a page      200 <credit-card-transactions>
    POST   /client_token                      client token      201 <client-token> | 422

Auth is HTTP basic with the public and private key (401 otherwise); another merchant's path
answers 403, and a request without `X-ApiVersion` 426, like the real gateway. Declines are
422 api-error-responses carrying the transaction, as Braintree answers them.

Outages for tests: `fail(status)` answers that status, `hang()` holds requests without an
answer, `lose_responses()` processes a request and then holds the answer (the outcome is
unknown to the client); each optionally for `times` requests, one `method` and the paths
matching the regular expression `path` (below the merchant, e.g. `/transactions`).
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pydantic import SecretStr

from tests.braintree_gateway import client_api
from tests.braintree_gateway.state import (
    GatewayState,
    NotFound,
    UnsupportedSearch,
    ValidationFailed,
)
from tests.braintree_gateway.xmlcodec import Collection, Symbol, document, parse_request
from tests.harness.ports import LOOPBACK, free_port

PAGE_SIZE = 50
# merchant account id -> its currency; the first is the merchant's default account
MERCHANT_ACCOUNTS = {"local_usd": "USD", "local_jpy": "JPY", "local_huf": "HUF", "local_isk": "ISK",
                     "local_kwd": "KWD"}  # fmt: skip


@dataclass
class Fault:
    kind: str  # status | hang | lose_response
    status: int = 500
    path: str | None = None  # a regular expression the whole path must match
    method: str | None = None
    times: int | None = None  # None = until cleared

    def applies(self, method: str, path: str) -> bool:
        return (self.path is None or re.fullmatch(self.path, path) is not None) and (
            self.method is None or self.method == method
        )


@dataclass
class Calls:
    """Every request the gateway saw, refused ones included, as (method, path below the
    merchant)."""

    seen: list[tuple[str, str]] = field(default_factory=list)

    def count(self, method: str, path: str) -> int:
        """Requests with this method whose path matches the regular expression."""
        return sum(1 for m, p in self.seen if m == method and re.fullmatch(path, p))


class LocalBraintreeGateway:
    def __init__(
        self,
        *,
        merchant_id: str = "local_merchant",
        public_key: str = "local_public_key",
        private_key: str = "local_private_key",
        merchant_accounts: dict[str, str] | None = None,
        port: int | None = None,
        hang_s: float = 30.0,
    ) -> None:
        self.merchant_id = merchant_id
        self.public_key = public_key
        self.private_key = private_key
        self.state = GatewayState(merchant_id, dict(merchant_accounts or MERCHANT_ACCOUNTS))
        self.port = port or free_port()
        self.hang_s = hang_s
        self.calls = Calls()
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def ledger_settings(self) -> dict[str, Any]:
        """The ledger's LEDGER_BRAINTREE_* settings (as Settings fields) for this gateway."""
        return {
            "braintree_merchant_id": self.merchant_id,
            "braintree_public_key": self.public_key,
            "braintree_private_key": SecretStr(self.private_key),
            "braintree_environment": "local",
            "braintree_port": self.port,
        }

    def start(self) -> LocalBraintreeGateway:
        self._release.clear()
        self._server = ThreadingHTTPServer((LOOPBACK, self.port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="local-braintree", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()  # hung requests give up
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def reset(self) -> None:
        """Forget everything between tests: data, faults, recorded calls."""
        self.clear_faults()
        self.state.reset()
        self.calls.seen.clear()

    # outages -----------------------------------------------------------------------------
    def fail(self, status: int = 500, **where: Any) -> None:
        self._add(Fault("status", status=status, **where))

    def hang(self, **where: Any) -> None:
        self._add(Fault("hang", **where))

    def lose_responses(self, **where: Any) -> None:
        self._add(Fault("lose_response", **where))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
        self._release.set()  # let requests that hang now go
        self._release = threading.Event()

    def _add(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def _fault_for(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.applies(method, path):
                    if fault.times is not None:
                        fault.times -= 1
                        if fault.times <= 0:
                            self._faults.remove(fault)
                    return fault
        return None

    def _hold(self) -> None:
        self._release.wait(self.hang_s)

    # helpers for tests -------------------------------------------------------------------
    def settle(self, transaction_id: str) -> None:
        self.state.settle(transaction_id)

    def open_dispute(self, transaction_id: str, amount: Decimal | None = None) -> str:
        """A chargeback of the sale (its whole amount unless given); returns its id."""
        return self.state.open_dispute(transaction_id, amount)

    def close_dispute(self, dispute_id: str, *, won: bool) -> None:
        self.state.close_dispute(dispute_id, won=won)

    def mint_nonce(
        self, *, billing_agreement: bool = True, email: str = "payer@example.com"
    ) -> str:
        return self.state.mint_nonce(billing_agreement=billing_agreement, email=email)

    def revoke(self, token: str) -> None:
        self.state.revoke(token)

    def withhold_agreement(self, token: str) -> None:
        """Re-vaulting this PayPal account gives no billing agreement (the payer's consent
        at PayPal does not cover charging them later)."""
        self.state.withhold_agreement(token)

    # routing ------------------------------------------------------------------------------
    def answer(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        params = parse_request(body)
        s = self.state
        routes: list[tuple[str, str, Callable[..., tuple[int, bytes]]]] = [
            (
                "POST",
                r"/customers",
                lambda: _ok(201, "customer", s.create_customer(params.get("customer") or {})),
            ),
            ("GET", r"/customers/([^/]+)", lambda i: _ok(200, "customer", s.find_customer(i))),
            (
                "PUT",
                r"/customers/([^/]+)",
                lambda i: _ok(200, "customer", s.update_customer(i, params.get("customer") or {})),
            ),
            ("DELETE", r"/customers/([^/]+)", lambda i: _done(s.delete_customer, i)),
            (
                "POST",
                r"/payment_methods",
                lambda: _ok(
                    201,
                    "paypal_account",
                    s.create_payment_method(params.get("payment_method") or {}),
                ),
            ),
            (
                "POST",
                r"/payment_methods/([^/]+)/nonces",
                lambda t: _ok(201, "payment_method_nonce", s.nonce_from_token(t)),
            ),
            (
                "GET",
                r"/payment_methods/any/([^/]+)",
                lambda t: _ok(200, "paypal_account", s.find_payment_method(t)),
            ),
            (
                "PUT",
                r"/payment_methods/any/([^/]+)",
                lambda t: _ok(
                    200,
                    "paypal_account",
                    s.update_payment_method(t, params.get("payment_method") or {}),
                ),
            ),
            (
                "DELETE",
                r"/payment_methods/any/([^/]+)",
                lambda t: _done(s.delete_payment_method, t),
            ),
            ("POST", r"/transactions/advanced_search_ids", lambda: self._search_ids(params)),
            ("POST", r"/transactions/advanced_search", lambda: self._search(params)),
            (
                "POST",
                r"/transactions",
                lambda: _ok(201, "transaction", s.sale(params.get("transaction") or {})),
            ),
            (
                "GET",
                r"/transactions/([^/]+)",
                lambda i: _ok(200, "transaction", s.find_transaction(i)),
            ),
            (
                "POST",
                r"/transactions/([^/]+)/refund",
                lambda i: _ok(201, "transaction", s.refund(i, params.get("transaction") or {})),
            ),
            ("PUT", r"/transactions/([^/]+)/void", lambda i: _ok(200, "transaction", s.void(i))),
            (
                "PUT",
                r"/transactions/([^/]+)/settle",
                lambda i: _ok(200, "transaction", s.settle(i)),
            ),
            (
                "POST",
                r"/client_token",
                lambda: _ok(
                    201,
                    "client_token",
                    {"value": s.client_token(params.get("client_token") or {}, self.base_url)},
                ),
            ),
        ]
        for verb, pattern, action in routes:
            match = re.fullmatch(pattern, path)
            if verb == method and match:
                try:
                    return action(*match.groups())
                except ValidationFailed as failed:
                    return 422, document("api_error_response", _error_body(failed, params))
                except NotFound:
                    return 404, b""
                except UnsupportedSearch as unsupported:
                    return 400, f"unsupported search criterion {unsupported}".encode()
        return 404, b""

    def _search_ids(self, params: dict[str, Any]) -> tuple[int, bytes]:
        ids = self.state.search_ids(params.get("search") or {})
        return _ok(200, "search_results", {"page_size": PAGE_SIZE, "ids": ids})

    def _search(self, params: dict[str, Any]) -> tuple[int, bytes]:
        ids = self.state.search_ids(params.get("search") or {})
        page = Collection(
            [
                ("current_page_number", 1),
                ("page_size", PAGE_SIZE),
                ("total_items", len(ids)),
                *(("transaction", self.state.transaction_xml(i)) for i in ids),
            ]
        )
        return _ok(200, "credit_card_transactions", page)


def _done(action: Callable[[str], None], key: str) -> tuple[int, bytes]:
    action(key)
    return 200, b""


def _ok(status: int, root: str, value: Any) -> tuple[int, bytes]:
    return status, document(root, value)


def _error_body(failed: ValidationFailed, params: dict[str, Any]) -> dict[str, Any]:
    """Braintree's api-error-response: errors nested by object, the params echoed (without
    nonces), a message, and the transaction for processor declines."""
    errors: dict[str, Any] = {"errors": []}
    for path, code, attribute, message in failed.errors:
        level = errors
        for name in path:
            level = level.setdefault(name, {"errors": []})
        level["errors"].append(
            ("error", {"code": code, "attribute": Symbol(attribute), "message": message})
        )
    body: dict[str, Any] = {"errors": errors, "params": _echo(params), "message": failed.message}
    if failed.transaction is not None:
        body["transaction"] = failed.transaction
    return body


def _echo(params: dict[str, Any]) -> dict[str, Any]:
    return {
        k: _echo(v) if isinstance(v, dict) else v
        for k, v in params.items()
        if k != "payment_method_nonce"
    }


def _handler_for(gateway: LocalBraintreeGateway) -> type[BaseHTTPRequestHandler]:
    expected_auth = (
        "Basic " + base64.b64encode(f"{gateway.public_key}:{gateway.private_key}".encode()).decode()
    )
    prefix = f"/merchants/{gateway.merchant_id}"

    class Handler(BaseHTTPRequestHandler):
        server_version = "LocalBraintree/1.0"

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PUT(self) -> None:
            self._serve("PUT")

        def do_DELETE(self) -> None:
            self._serve("DELETE")

        def do_OPTIONS(self) -> None:
            self._serve("OPTIONS")

        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path, _, query = self.path.partition("?")
            if path.startswith(prefix + client_api.PREFIX):
                self._client_api(method, path[len(prefix + client_api.PREFIX) :], query, body)
                return
            status, answer = self._answer(method, path, body)
            if status == 0:
                return  # held until released: the client has timed out by then
            self.send_response(status)
            self.send_header("Content-Type", "application/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def _answer(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
            inner = path[len(prefix) :] if path.startswith(prefix + "/") else path
            gateway.calls.seen.append((method, inner))  # refused requests too
            if self.headers.get("Authorization") != expected_auth:
                return 401, b""
            if not self.headers.get("X-ApiVersion"):
                return 426, b""
            if not path.startswith("/merchants/"):
                return 404, b""
            if not path.startswith(prefix + "/"):
                return 403, b""
            fault = gateway._fault_for(method, inner)
            if fault is not None and fault.kind == "status":
                return fault.status, b"<html><body><h1>Internal Server Error</h1></body></html>"
            if fault is not None and fault.kind == "hang":
                gateway._hold()
                return 0, b""
            answer = gateway.answer(method, inner, body)
            if fault is not None and fault.kind == "lose_response":
                gateway._hold()
                return 0, b""
            return answer

        def _client_api(self, method: str, path: str, query: str, body: bytes) -> None:
            """The browser client's JSON API (client_api.py): no basic auth, CORS."""
            gateway.calls.seen.append((method, client_api.PREFIX + path))
            status, answer = client_api.answer(gateway.state, method, path, query, body)
            data = json.dumps(answer).encode() if status != 204 else b""
            self.send_response(status)
            for name, value in client_api.CORS.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: pytest shows failures, not every request

    return Handler


@contextmanager
def running_braintree_gateway(**options: Any) -> Iterator[LocalBraintreeGateway]:
    gateway = LocalBraintreeGateway(**options).start()
    try:
        yield gateway
    finally:
        gateway.stop()
