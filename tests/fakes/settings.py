"""Production settings for tests: everything production must set (adapters/settings.py,
PRODUCTION_MUST_SET) set to test values."""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr

PRODUCTION: dict[str, Any] = {
    "environment": "production",
    "console_url": "https://billing.test",
    "pay_link_secret": SecretStr("test-production-pay-link-secret"),
    "cursor_secret": "test-production-cursor-secret",
    "seller_legal_name": "Test Seller Ltd",
    "seller_address": ("1 Test Street", "London"),
    "seller_tax_id": "GB000000000",
}
