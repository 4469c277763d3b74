"""Explicit Braintree settings and the SDK client built from them. Nothing happens at
import time; the private key is never part of a repr or a log line."""

from __future__ import annotations

from dataclasses import dataclass, field

import braintree

ENVIRONMENTS = ("sandbox", "production", "local")


@dataclass(frozen=True)
class BraintreeConfig:
    merchant_id: str
    public_key: str
    private_key: str = field(repr=False)
    environment: str = "sandbox"  # sandbox | production | local (plain HTTP, tests)
    host: str = "127.0.0.1"  # local only
    port: int | None = None  # local only
    timeout_s: float = 10.0  # per HTTP request
    default_currency: str = "USD"  # the currency of the default merchant account
    merchant_accounts: dict[str, str] = field(default_factory=dict)  # currency -> account id
    retry_attempts: int = 3  # safe reads only
    retry_wait_initial_s: float = 0.1
    retry_wait_max_s: float = 2.0
    retry_timeout_s: float = 15.0
    breaker_fail_max: int = 5  # consecutive outages that open the circuit
    breaker_reset_s: float = 30.0  # open this long before one trial call

    def __post_init__(self) -> None:
        if self.environment not in ENVIRONMENTS:
            raise ValueError(f"environment must be one of {ENVIRONMENTS}")
        if self.environment == "local" and self.port is None:
            raise ValueError("the local environment needs a port")
        if not (self.merchant_id and self.public_key and self.private_key):
            raise ValueError("merchant id, public key and private key are all required")

    def sdk_environment(self) -> braintree.Environment:
        if self.environment == "sandbox":
            return braintree.Environment.Sandbox
        if self.environment == "production":
            return braintree.Environment.Production
        return braintree.Environment(
            "local", self.host, str(self.port), "", False, None, self.host, str(self.port)
        )

    def merchant_account_for(self, currency: str) -> str | None:
        """The merchant account charging in `currency`; None for the default account.
        Raises LookupError for a currency no account settles in."""
        if currency in self.merchant_accounts:
            return self.merchant_accounts[currency]
        if currency == self.default_currency:
            return None
        raise LookupError(currency)


def sdk_gateway(config: BraintreeConfig) -> braintree.BraintreeGateway:
    """The SDK's gateway for these settings; it connects lazily, on the first call."""
    return braintree.BraintreeGateway(
        braintree.Configuration(
            environment=config.sdk_environment(),
            merchant_id=config.merchant_id,
            public_key=config.public_key,
            private_key=config.private_key,
            timeout=config.timeout_s,
            wrap_http_exceptions=True,  # braintree's own exception types, not requests'
        )
    )
