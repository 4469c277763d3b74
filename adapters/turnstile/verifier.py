"""Cloudflare Turnstile's siteverify API, server side (the HumanCheck port).

POSTs the token with the secret; retries only what is safe to retry (a timeout or a 5xx
with the same idempotency key, which siteverify accepts so that a retried check of one
token is not taken for its reuse). The secret never reaches a log line. Each check is
counted in `billing_turnstile_verifications_total{outcome}`: passed, failed (siteverify
refused the token) or unavailable (it could not be asked).
"""

from __future__ import annotations

from typing import Any

import httpx
import stamina
import structlog

from adapters.metrics import TURNSTILE_VERIFICATIONS, show_turnstile_outcomes
from commands.checkout_ports import HumanCheckResult, HumanCheckUnavailable

SITEVERIFY_URL = "https://challenges.cloudflare.com/turnstile/v0/siteverify"
log = structlog.get_logger("turnstile")


class _Retryable(Exception):
    """An answer worth asking again for (a 5xx)."""


class TurnstileVerifier:
    def __init__(
        self,
        site_key: str,
        secret: str,
        url: str = SITEVERIFY_URL,
        timeout_s: float = 5.0,
        attempts: int = 3,
    ) -> None:
        self.site_key = site_key
        self._secret = secret
        self._url = url
        self._attempts = attempts
        # One client for the verifier's life: its connection pool keeps the TLS connection
        # to Cloudflare open between checks (a client per check cost 30-40 ms of CPU alone,
        # docs/benchmarks.md "Processors"). Creating it connects nothing.
        self._client = httpx.Client(timeout=timeout_s)
        show_turnstile_outcomes()

    def __repr__(self) -> str:  # never the secret
        return f"TurnstileVerifier(site_key={self.site_key!r}, url={self._url!r})"

    def close(self) -> None:
        self._client.close()

    def verify(self, token: str, remote_ip: str | None, idempotency_key: str) -> HumanCheckResult:
        form = {"secret": self._secret, "response": token, "idempotency_key": idempotency_key}
        if remote_ip:
            form["remoteip"] = remote_ip
        try:
            body = self._post(form)
        except (_Retryable, httpx.HTTPError) as error:
            TURNSTILE_VERIFICATIONS.labels("unavailable").inc()
            log.warning("turnstile.unavailable", error=type(error).__name__)
            raise HumanCheckUnavailable("the bot check could not be verified") from error
        result = _result(body)
        TURNSTILE_VERIFICATIONS.labels("passed" if result.passed else "failed").inc()
        return result

    def _post(self, form: dict[str, str]) -> dict[str, Any]:
        for attempt in stamina.retry_context(
            on=(_Retryable, httpx.TransportError), attempts=self._attempts, wait_initial=0.05
        ):
            with attempt:
                response = self._client.post(self._url, data=form)
                if response.status_code >= 500:
                    raise _Retryable(f"siteverify answered {response.status_code}")
                response.raise_for_status()
                body: dict[str, Any] = response.json()
                return body
        raise _Retryable("no attempt was made")  # pragma: no cover - attempts >= 1


def _result(body: dict[str, Any]) -> HumanCheckResult:
    return HumanCheckResult(
        passed=bool(body.get("success")),
        error_codes=tuple(str(c) for c in body.get("error-codes", [])),
        hostname=body.get("hostname"),
        action=body.get("action"),
    )
