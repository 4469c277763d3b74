"""Configuration from the environment (prefix LEDGER_). With nothing set, the ledger runs
on its embedded default: a private PostgreSQL in the data directory and projections fed
straight from the event store."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "billing-ledger"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="LEDGER_", extra="ignore")

    database_url: str | None = Field(
        default=None, description="postgresql:// URL; unset = embedded PostgreSQL"
    )
    data_dir: Path = Field(default_factory=default_data_dir)
    kafka_bootstrap: str | None = Field(
        default=None, description="host:port list; unset = projections read the event store"
    )
    topic: str = "billing.events"
    topic_partitions: int = Field(
        default=12, ge=1, description="partitions of the topic the ledger creates (key = account)"
    )
    topic_replication_factor: int = Field(
        default=1, ge=1, description="1 fits one broker; production: 3"
    )
    topic_min_insync_replicas: int = Field(
        default=1, ge=1, description="1 fits one broker; production: 2"
    )
    relay_max_outage_s: float = Field(
        default=300.0, gt=0, description="how long the relay reconnects to PostgreSQL, then exits"
    )
    redis_url: str | None = Field(
        default=None, description="redis:// URL for shared rate limits; unset = per process"
    )
    rate_limit: str = Field(default="1200/minute", description="per principal, e.g. 50/second")
    address_rate_limit: str = Field(
        default="600/minute",
        description="per client address: requests without a valid key, and webhooks",
    )
    trusted_proxies: tuple[str, ...] = Field(
        default=(),
        description="proxy addresses/networks whose X-Forwarded-For is believed; none = peer",
    )
    hsts_max_age_s: int | None = Field(
        default=None, ge=1, description="served over TLS: Strict-Transport-Security max-age"
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="bearer token for /metrics on the API port; unset = 404"
    )
    api_key_cache_s: float = Field(
        default=5.0, ge=0, description="how long a key read from the database is trusted"
    )
    api_keys_file: Path | None = None
    log_json: bool | None = Field(default=None, description="unset = JSON when not a terminal")
    log_level: str = "INFO"
    pool_size: int = 10
    plans_file: Path | None = Field(
        default=None, description="JSON plan catalogue; unset = the built-in catalogue"
    )
    dunning_retry_days: tuple[int, ...] = Field(
        default=(1, 3, 5, 7), description="retries, in days after the first failure"
    )
    dunning_backup_methods: bool = True
    stripe_api_key: SecretStr | None = Field(
        default=None, description="Stripe secret key; unset = cards are not charged"
    )
    stripe_api_base: str | None = Field(
        default=None, description="Stripe API URL (e.g. localstripe); unset = api.stripe.com"
    )
    stripe_lookup: Literal["search", "list"] = Field(
        default="search",
        description="finding a charge by attempt id: Search API, or listing (localstripe)",
    )
    stripe_disputes: bool = Field(
        default=True,
        description="reconciliation compares disputes (false: localstripe, no Disputes API)",
    )
    stripe_timeout_s: float = 30.0
    braintree_merchant_id: str | None = Field(
        default=None, description="Braintree merchant id; unset = PayPal is not charged"
    )
    braintree_public_key: str | None = None
    braintree_private_key: SecretStr | None = None
    braintree_environment: Literal["sandbox", "production", "local"] = "sandbox"
    braintree_host: str = Field(default="127.0.0.1", description="local environment only")
    braintree_port: int | None = Field(default=None, description="local environment only")
    braintree_timeout_s: float = 10.0
    braintree_webhook_max_age_s: float = Field(
        default=26 * 3600,
        gt=0,
        description="Braintree notifications whose timestamp is older are refused (400"
        " stale_webhook); Braintree redelivers hourly for up to 24 hours in production",
    )
    braintree_default_currency: str = Field(
        default="USD", description="the currency of the default merchant account"
    )
    braintree_merchant_accounts: dict[str, str] = Field(
        default_factory=dict,
        description='currency -> merchant account id, e.g. {"EUR": "acct_eur"}',
    )
    stripe_webhook_secret: SecretStr | None = Field(
        default=None, description="signing secret of the /webhooks/stripe endpoint (whsec_...)"
    )
    turnstile_site_key: str | None = Field(
        default=None, description="Cloudflare Turnstile site key; unset = no payment sessions"
    )
    turnstile_secret: SecretStr | None = None
    turnstile_url: str = Field(
        default="https://challenges.cloudflare.com/turnstile/v0/siteverify",
        description="siteverify endpoint (a local fake in tests)",
    )
    payment_session_ttl_s: int = Field(default=1800, ge=60, le=86_400)
    environment: Literal["development", "test", "production"] = Field(
        default="development",
        description="production refuses the simulated processor (and every test-only aid)",
    )
    simulated_processor: bool | None = Field(
        default=None,
        description="the simulated Stripe and PayPal (adapters/simulated); unset = on for the"
        " embedded default with no processor configured; never with a real one or in production",
    )
    console_url: str = Field(
        default="http://127.0.0.1:8000",
        description="where browsers reach the API: the start of the console's sign-in links",
    )
    console_link_ttl_s: int = Field(
        default=600, ge=10, le=86_400, description="how long a console sign-in link works"
    )
    console_idle_s: int = Field(
        default=1800, ge=1, description="a console session ends after this long unused"
    )
    console_absolute_s: int = Field(
        default=12 * 3600, ge=1, description="a console session ends this long after sign-in"
    )
    console_secure_cookies: bool = Field(
        default=True,
        description="the console's cookie is Secure (sent over HTTPS only; browsers also send"
        " it to http://127.0.0.1 and localhost); false for another plain-http host",
    )
    cursor_secret: str = Field(
        default="dev-cursor-secret",
        description="HMAC key of page cursors; production must set its own (docs/operations.md)",
    )

    @model_validator(mode="after")
    def _topic_can_be_written(self) -> Settings:
        if self.topic_min_insync_replicas > self.topic_replication_factor:
            raise ValueError(
                "topic_min_insync_replicas exceeds topic_replication_factor: no write could succeed"
            )
        return self

    @model_validator(mode="after")
    def _simulation_only_where_allowed(self) -> Settings:
        if not self.simulated_processor:
            return self
        if self.environment == "production":
            raise ValueError("the simulated processor is refused in production settings")
        if self.real_processor_configured:
            raise ValueError("the simulated processor cannot stand beside a real processor")
        return self

    @property
    def real_processor_configured(self) -> bool:
        return self.stripe_api_key is not None or self.braintree_merchant_id is not None

    @property
    def simulates_processors(self) -> bool:
        """The simulated processor serves cards and PayPal: asked for, or the embedded
        default's choice when no real processor is configured, never in production."""
        if self.simulated_processor is not None:
            return self.simulated_processor
        return (
            self.embedded
            and not self.real_processor_configured
            and self.environment != "production"
        )

    @property
    def embedded(self) -> bool:
        return self.database_url is None

    def wants_json_logs(self) -> bool:
        return self.log_json if self.log_json is not None else not sys.stderr.isatty()
