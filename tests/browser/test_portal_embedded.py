"""What a newcomer does after `./scripts/run`: `ledger serve --demo` on the embedded default,
as a real process on a port of its own, prints a link to the billing pages of the demo
account in bad debt; in chromium they add the test card 4242 on the payment page (the
simulated processor's scripts) and pay, and the invoice reads as recovered."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.test_console_embedded import (
    START_TIMEOUT_S,
    _answers,
    data_dir,  # noqa: F401 (a fixture)
    start_serve,
)
from tests.harness import free_port

BILLING_LINK = re.compile(r"single-use link: (http://\S+/billing/session\?token=\S+)")
DEMO_START_TIMEOUT_S = START_TIMEOUT_S + 120  # the demo walks its clock through 120 days


@pytest.fixture
def billing_link(data_dir: Path) -> Iterator[str]:  # noqa: F811
    port = free_port()
    proc, log = start_serve(data_dir, port, "--demo")
    try:
        yield _printed(proc, log, f"http://127.0.0.1:{port}")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)


def _printed(proc: subprocess.Popen[bytes], log: Path, base_url: str) -> str:
    deadline = time.monotonic() + DEMO_START_TIMEOUT_S
    while time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        found = BILLING_LINK.search(text)
        if found and _answers(base_url):
            assert "Ольга Петрова (demo account in bad debt" in text
            return found.group(1)
        assert proc.poll() is None, f"serve exited {proc.returncode}: {text[-3000:]}"
        time.sleep(0.5)
    raise AssertionError(f"no billing link in {DEMO_START_TIMEOUT_S} s: {log.read_text()[-3000:]}")


def test_a_newcomer_adds_a_card_and_pays_the_demo_bad_debt(page: Page, billing_link: str) -> None:
    page.goto(billing_link)
    expect(page.get_by_test_id("customer-name")).to_have_text("Ольга Петрова")
    expect(page.get_by_role("heading", name="Your account has unpaid invoices")).to_be_visible()

    page.get_by_role("link", name="Payment methods", exact=True).click()
    page.get_by_test_id("add-method").click()
    page.get_by_test_id("add-card").click()
    expect(page.get_by_test_id("simulated")).to_contain_text("Simulated processor")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_label("Expiry (MM/YY)").fill("12/30")
    page.get_by_label("CVC").fill("123")
    page.get_by_label("Verify you are human (simulated Turnstile)").check()
    page.get_by_role("button", name="Save card").click()
    page.wait_for_url(re.compile(r"/billing/payment-methods"))

    page.get_by_role("link", name="Overview", exact=True).click()
    page.get_by_role("link", name="Pay now").click()
    expect(page.get_by_test_id("bad-debt-consent")).to_have_text(
        "I confirm paying 20.00 EUR with Visa ending in 4242."
    )
    page.get_by_label(re.compile("I confirm paying")).check()
    page.get_by_role("button", name="Pay 20.00 EUR").click()
    expect(page.get_by_test_id("bad-debt-outcome")).to_contain_text(": paid.")

    page.get_by_role("link", name="Your invoices").click()
    expect(page.get_by_test_id("invoice-standing").first).to_have_text(
        re.compile(r"^Paid on .+ \(was uncollectible since .+\)$")
    )
