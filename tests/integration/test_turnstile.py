"""The Turnstile verifier over real HTTP against the local siteverify stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from adapters.turnstile.verifier import TurnstileVerifier
from commands.checkout_ports import HumanCheckUnavailable
from tests.fakes.turnstile_server import TurnstileServer

SITE_KEY, SECRET = "0x4AAAAAAAtestsitekey", "0x4AAAAAAAtestsecret"


@pytest.fixture
def server() -> Iterator[TurnstileServer]:
    fake = TurnstileServer()
    fake.site(SITE_KEY, SECRET)
    with fake.running():
        yield fake


@pytest.fixture
def verifier(server: TurnstileServer) -> TurnstileVerifier:
    return TurnstileVerifier(SITE_KEY, SECRET, url=server.url, timeout_s=2)


def test_a_fresh_token_passes_once(server: TurnstileServer, verifier: TurnstileVerifier) -> None:
    token = server.mint(SITE_KEY, hostname="dash.example.com", action="checkout")
    first = verifier.verify(token, "198.51.100.7", idempotency_key="check-1")
    assert (first.passed, first.hostname, first.action) == (True, "dash.example.com", "checkout")
    assert server.checks[0]["remoteip"] == "198.51.100.7"
    again = verifier.verify(token, None, idempotency_key="check-2")
    assert (again.passed, again.error_codes) == (False, ("timeout-or-duplicate",))


def test_a_retried_check_with_the_same_key_is_not_a_reuse(
    server: TurnstileServer, verifier: TurnstileVerifier
) -> None:
    token = server.mint(SITE_KEY)
    server.fail_next(2)  # two 500s, then the answer
    assert verifier.verify(token, None, idempotency_key="check-1").passed
    assert len(server.checks) == 3
    assert {c["idempotency_key"] for c in server.checks} == {"check-1"}


def test_unknown_tokens_and_wrong_secrets_fail_with_their_codes(
    server: TurnstileServer, verifier: TurnstileVerifier
) -> None:
    assert verifier.verify("forged", None, "k").error_codes == ("invalid-input-response",)
    wrong = TurnstileVerifier(SITE_KEY, "not-the-secret", url=server.url)
    assert wrong.verify(server.mint(SITE_KEY), None, "k").error_codes == ("invalid-input-secret",)
    assert "not-the-secret" not in repr(wrong)


def test_an_outage_is_unavailable_not_a_failed_check(
    server: TurnstileServer, verifier: TurnstileVerifier
) -> None:
    server.fail_next(10)
    with pytest.raises(HumanCheckUnavailable):
        verifier.verify(server.mint(SITE_KEY), None, "k")
    down = TurnstileVerifier(SITE_KEY, SECRET, url="http://127.0.0.1:9/siteverify", timeout_s=1)
    with pytest.raises(HumanCheckUnavailable):
        down.verify("any", None, "k")
