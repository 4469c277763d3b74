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


PRODUCTION_MUST_SET = (
    "console_url",
    "pay_link_secret",
    "cursor_secret",
    "seller_legal_name",
    "seller_address",
    "seller_tax_id",
)


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
    ready_max_lag_events: int = Field(
        default=10_000,
        ge=0,
        description="/readyz answers 503 while a projection is further behind the store's"
        " head than this many events (or is parked on a poisoned event)",
    )
    metrics_cache_s: float = Field(
        default=5.0, ge=0, description="how long one read of the business state serves scrapes"
    )
    scheduler_in_process: bool = Field(
        default=True, description="embedded default: `ledger serve` runs the scheduled jobs"
    )
    scheduler_billing_run_s: float = Field(
        default=3600.0, gt=0, description="every how long the billing run runs"
    )
    scheduler_janitor_s: float = Field(
        default=300.0, gt=0, description="every how long the in-flight janitor runs"
    )
    scheduler_janitor_older_than_s: float = Field(
        default=900.0, ge=0, description="the janitor asks about attempts pending this long"
    )
    scheduler_credit_expiry_s: float = Field(
        default=3600.0, gt=0, description="every how long credits past their expiry expire"
    )
    scheduler_reconcile_s: float = Field(
        default=3600.0, gt=0, description="every how long recently active accounts reconcile"
    )
    scheduler_reconcile_window_s: float = Field(
        default=86400.0, gt=0, description="accounts with an event this recent are reconciled"
    )
    scheduler_lock_poll_s: float = Field(
        default=2.0, gt=0, description="how often a standby scheduler tries to take over"
    )
    api_key_cache_s: float = Field(
        default=5.0, ge=0, description="how long a key read from the database is trusted"
    )
    api_keys_file: Path | None = None
    log_json: bool | None = Field(default=None, description="unset = JSON when not a terminal")
    log_level: str = "INFO"
    pool_size: int = 10
    billing_charge_concurrency: int = Field(
        default=16, ge=1, le=256, description="the billing run's processor calls at a time"
    )
    group_commit_max_accounts: int = Field(
        default=200,
        ge=1,
        description="most commands sharing one transaction (group commit); 1 = each alone",
    )
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
    stripe_publishable_key: str | None = Field(
        default=None,
        description="Stripe publishable key (pk_...) for Stripe.js on the payment page",
    )
    pay_stripe_js_url: str = Field(
        default="https://js.stripe.com/v3/", description="Stripe.js, loaded by the payment page"
    )
    pay_braintree_client_js_url: str = Field(
        default="https://js.braintreegateway.com/web/3.111.0/js/client.min.js",
        description="Braintree's web client, loaded by the payment page",
    )
    pay_braintree_paypal_js_url: str = Field(
        default="https://js.braintreegateway.com/web/3.111.0/js/paypal-checkout.min.js",
        description="Braintree's PayPal checkout component, loaded by the payment page",
    )
    pay_turnstile_js_url: str = Field(
        default="https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit",
        description="Cloudflare Turnstile's api.js, loaded by the payment page",
    )
    pay_script_origins: tuple[str, ...] = Field(
        default=("https://www.paypal.com",),
        description="scripts the loaded scripts load in turn (PayPal's SDK), besides the"
        " script URLs' own origins",
    )
    pay_frame_origins: tuple[str, ...] = Field(
        default=(
            "https://js.stripe.com",
            "https://hooks.stripe.com",
            "https://challenges.cloudflare.com",
            "https://www.paypal.com",
            "https://www.sandbox.paypal.com",
            "https://assets.braintreegateway.com",
        ),
        description="frames the payment page's scripts open (card fields, 3-D Secure, the"
        " Turnstile widget, PayPal's window)",
    )
    pay_connect_origins: tuple[str, ...] = Field(
        default=(
            "https://api.stripe.com",
            "https://api.braintreegateway.com",
            "https://api.sandbox.braintreegateway.com",
            "https://client-analytics.braintreegateway.com",
            "https://client-analytics.sandbox.braintreegateway.com",
            "https://www.paypal.com",
            "https://www.sandbox.paypal.com",
        ),
        description="APIs the payment page's scripts call",
    )
    return_urls: tuple[str, ...] = Field(
        default=(),
        description="where the billing pages and the payment page may send the customer back"
        " (a JSON list of prefixes scheme://host[:port][/path], e.g."
        ' ["https://dashboard.example.com"]): a return_url must start with one, or with the'
        " ledger's own LEDGER_CONSOLE_URL; none = only the ledger's own pages",
    )
    pay_link_secret: SecretStr = Field(
        default=SecretStr("dev-pay-link-secret"),
        description="HMAC key of payment page links; production must set its own",
    )
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
    portal_link_ttl_s: int = Field(
        default=300,
        ge=10,
        le=86_400,
        description="how long a billing portal session's URL works (single use)",
    )
    portal_idle_s: int = Field(
        default=1800, ge=1, description="a customer's billing session ends after this long unused"
    )
    portal_absolute_s: int = Field(
        default=4 * 3600,
        ge=1,
        description="a customer's billing session ends this long after it began",
    )
    portal_secure_cookies: bool = Field(
        default=True,
        description="the billing pages' cookie is Secure (as console_secure_cookies)",
    )
    cursor_secret: str = Field(
        default="dev-cursor-secret",
        description="HMAC key of page cursors; production must set its own (docs/operations.md)",
    )

    seller_legal_name: str = Field(
        default="Seller legal name (placeholder: set LEDGER_SELLER_LEGAL_NAME)",
        description="the seller's legal name, printed on every invoice",
    )
    seller_address: tuple[str, ...] = Field(
        default=("Seller address (placeholder: set LEDGER_SELLER_ADDRESS)",),
        description='the seller\'s postal address, one line each: ["1 Main St", "London"]',
    )
    seller_tax_id: str = Field(
        default="Seller tax id (placeholder: set LEDGER_SELLER_TAX_ID)",
        description="the seller's VAT or tax registration number, printed on every invoice",
    )
    pdf_cjk_font: Path | None = Field(
        default=None,
        description="a complete CJK font (TTF/OTF/TTC) for invoice PDFs instead of the shipped"
        " subset; unset = the subset in adapters/pdf/fonts",
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

    @model_validator(mode="after")
    def _production_sets_its_own(self) -> Settings:
        """Production never runs on a development default: the HMAC keys of payment links
        and page cursors, the seller printed on every invoice, where browsers reach it."""
        if self.environment != "production":
            return self
        unset = [name for name in PRODUCTION_MUST_SET if name not in self.model_fields_set]
        if unset:
            names = ", ".join(f"LEDGER_{name.upper()}" for name in unset)
            raise ValueError(f"production settings must set {names} (no development default)")
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
