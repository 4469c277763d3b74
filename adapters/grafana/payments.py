"""Payments: success rate by processor, outcomes and decline reasons, the dunning funnel,
webhooks, Turnstile and the processors' circuit breakers.

The payment and dunning counters are derived from events and exported alike by every API
process (`max without (instance, job)` first, then summed over their labels); the webhook,
Turnstile and breaker metrics are counted by each process (summed)."""

from __future__ import annotations

from adapters.grafana.panels import Dashboard, Query, Section, panel

SAME = "max without (instance, job)"


def _flow(metric: str, by: str, window: str = "1h") -> str:
    return f"sum by ({by}) ({SAME} (increase({metric}[{window}])))"


def dashboard() -> Dashboard:
    return Dashboard(
        uid="billing-payments",
        title="Billing: payments",
        description="Payment success and declines by processor, dunning, webhooks, Turnstile "
        "and circuit breakers (docs/observability.md, Dashboards).",
        sections=(_payments(), _dunning(), _edges()),
    )


def _payments() -> Section:
    succeeded = f'{SAME} (increase(billing_payment_outcomes_total{{outcome="succeeded"}}[1h]))'
    # action_required comes before an attempt's final outcome: not in the ratio.
    final = f'{SAME} (increase(billing_payment_outcomes_total{{outcome=~"succeeded|failed"}}[1h]))'
    return Section(
        "Payment attempts",
        (
            panel(
                "Success rate by processor (last hour)",
                "Succeeded attempts over succeeded and failed ones (soft declines included) "
                "in the hour before each point. Alert BillingPaymentFailureRatioHigh watches "
                "the failures.",
                "percentunit",
                Query(
                    f"sum by (processor) ({succeeded}) / sum by (processor) ({final})",
                    "{{processor}}",
                ),
            ),
            panel(
                "Attempts per hour by processor and session",
                "Payment attempts started, on session (the customer present) or off.",
                "short",
                Query(
                    _flow("billing_payment_attempts_total", "processor, session"),
                    "{{processor}} {{session}} session",
                ),
            ),
            panel(
                "Outcomes per hour",
                "Attempts' outcomes: succeeded, failed (hard or soft decline) or waiting for "
                "the customer (action_required).",
                "short",
                Query(
                    _flow("billing_payment_outcomes_total", "outcome, decline_kind"),
                    "{{outcome}} ({{decline_kind}})",
                ),
            ),
            panel(
                "Decline reasons (last 24 hours)",
                "Declines by processor and decline code (known codes, else other).",
                "short",
                Query(
                    _flow("billing_payment_declines_total", "processor, decline_code", "24h"),
                    "{{processor}} {{decline_code}}",
                ),
                kind="bars",
            ),
        ),
    )


def _dunning() -> Section:
    return Section(
        "Dunning",
        (
            panel(
                "Dunning funnel (dashboard range)",
                "Retries by their number over the dashboard's time range: how many invoices "
                "reach each retry.",
                "short",
                Query(_flow("billing_dunning_steps_total", "step", "$__range"), "retry {{step}}"),
                kind="bars",
            ),
            panel(
                "Dunning outcomes (dashboard range)",
                "How dunning ended: recovered or exhausted (the invoice uncollectible).",
                "short",
                Query(
                    _flow("billing_dunning_outcomes_total", "outcome", "$__range"), "{{outcome}}"
                ),
                kind="bars",
            ),
        ),
    )


def _edges() -> Section:
    return Section(
        "Webhooks, Turnstile and breakers",
        (
            panel(
                "Webhooks received per hour",
                "Processor deliveries received, by provider and event type.",
                "short",
                Query(
                    "sum by (provider, type) (increase(billing_webhooks_received_total[1h]))",
                    "{{provider}} {{type}}",
                ),
            ),
            panel(
                "Webhooks duplicate and rejected per hour",
                "Deliveries already seen (processors redeliver), and deliveries refused with a "
                "400 (invalid signature, malformed, stale).",
                "short",
                Query(
                    "sum by (provider) (increase(billing_webhooks_duplicate_total[1h]))",
                    "{{provider}} duplicate",
                ),
                Query(
                    "sum by (provider, reason) (increase(billing_webhooks_rejected_total[1h]))",
                    "{{provider}} rejected: {{reason}}",
                ),
            ),
            panel(
                "Turnstile verifications per hour",
                "The bot check of the payment and customer pages: passed, failed, or "
                "Cloudflare unavailable.",
                "short",
                Query(
                    "sum by (outcome) (increase(billing_turnstile_verifications_total[1h]))",
                    "{{outcome}}",
                ),
            ),
            panel(
                "Circuit breakers: processes in each state",
                "Each API process has its own breaker per processor: how many are closed, "
                "open or half open.",
                "short",
                Query(
                    "sum by (processor, state) (billing_processor_breaker_state)",
                    "{{processor}} {{state}}",
                ),
            ),
            panel(
                "Circuit breakers opened per hour",
                "Times a processor's breaker opened (calls refused at once until it half-opens).",
                "short",
                Query(
                    "sum by (processor) (increase(billing_processor_breaker_opened_total[1h]))",
                    "{{processor}}",
                ),
            ),
            panel(
                "Reconciliation findings per hour",
                "Mismatches between the ledger and the processors that reconciliation found, "
                "by kind (a mismatch counts once, when first found).",
                "short",
                Query(
                    _flow("billing_reconciliation_findings_total", "kind"),
                    "{{kind}}",
                ),
            ),
        ),
    )
