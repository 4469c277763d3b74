"""A local stand-in for Cloudflare Turnstile's siteverify endpoint, over real HTTP.

It speaks the documented form API (`secret`, `response`, `remoteip`, `idempotency_key`)
and answers the documented JSON (`success`, `error-codes`, `challenge_ts`, `hostname`,
`action`). Tokens are minted by the test (what the widget would hand the browser), expire
after 300 s and are single use: a second check fails with `timeout-or-duplicate` unless it
repeats the first check's idempotency key. `fail_next(n)` answers 500 n times.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

PATH = "/turnstile/v0/siteverify"
TOKEN_TTL_S = 300.0


@dataclass
class _Token:
    site_key: str
    hostname: str
    action: str
    issued: float
    spent_with: str | None = None  # the idempotency key of the check that used it


class TurnstileServer:
    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}  # secret -> site key
        self.tokens: dict[str, _Token] = {}
        self.checks: list[dict[str, str]] = []
        self._failures = 0
        self._lock = threading.Lock()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}{PATH}"

    def site(self, site_key: str, secret: str) -> None:
        self.secrets[secret] = site_key

    def mint(self, site_key: str, hostname: str = "dash.example.com", action: str = "") -> str:
        token = secrets.token_urlsafe(48)  # opaque to the server, as the widget's tokens are
        self.tokens[token] = _Token(site_key, hostname, action, time.monotonic())
        return token

    def fail_next(self, count: int) -> None:
        self._failures = count

    def answer(self, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.checks.append(form)
            if self._failures:
                self._failures -= 1
                return 500, {"success": False, "error-codes": ["internal-error"]}
            return 200, self._verdict(form)

    def _verdict(self, form: dict[str, str]) -> dict[str, Any]:
        secret, response = form.get("secret"), form.get("response")
        if not secret:
            return _failed("missing-input-secret")
        if secret not in self.secrets:
            return _failed("invalid-input-secret")
        if not response:
            return _failed("missing-input-response")
        token = self.tokens.get(response)
        if token is None or token.site_key != self.secrets[secret]:
            return _failed("invalid-input-response")
        key = form.get("idempotency_key")
        expired = time.monotonic() - token.issued > TOKEN_TTL_S
        if expired or (token.spent_with is not None and token.spent_with != key):
            return _failed("timeout-or-duplicate")
        token.spent_with = key or "spent"
        return {
            "success": True,
            "error-codes": [],
            "challenge_ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "hostname": token.hostname,
            "action": token.action,
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if self.path != PATH:
                    self._send(404, {"success": False, "error-codes": ["bad-request"]})
                    return
                length = int(self.headers.get("Content-Length", "0"))
                raw = parse_qs(self.rfile.read(length).decode())
                status, body = server.answer({k: v[0] for k, v in raw.items()})
                self._send(status, body)

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests assert on `checks`, not on the server's access log."""

        return Handler

    @contextmanager
    def running(self) -> Iterator[TurnstileServer]:
        thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._http.shutdown()
            self._http.server_close()
            thread.join(timeout=5)


def _failed(code: str) -> dict[str, Any]:
    return {"success": False, "error-codes": [code]}
