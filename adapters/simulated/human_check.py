"""The simulated Turnstile of the embedded default (the HumanCheck port), beside the
simulated processor: Cloudflare's documented testing keys, answered without the internet.
The site key is Cloudflare's "always passes" testing site key and the only token that passes
is its dummy token, which the simulated widget the payment page loads
(adapters/http/pay/simulated/turnstile.js) hands out; anything else fails as siteverify
fails an unknown token. Never beside a real processor or in production (settings)."""

from __future__ import annotations

from commands.checkout_ports import HumanCheckResult

SITE_KEY = "1x00000000000000000000AA"  # Cloudflare's testing site key: always passes
DUMMY_TOKEN = "XXXX.DUMMY.TOKEN.XXXX"  # noqa: S105 - public: the token Cloudflare's testing widgets produce


class SimulatedHumanCheck:
    site_key = SITE_KEY

    def verify(self, token: str, remote_ip: str | None, idempotency_key: str) -> HumanCheckResult:
        if token == DUMMY_TOKEN:
            return HumanCheckResult(passed=True, hostname="simulated", action="")
        return HumanCheckResult(passed=False, error_codes=("invalid-input-response",))

    def close(self) -> None:
        """Nothing to release."""
