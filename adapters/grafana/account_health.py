"""Account health: accounts by state over time, stuck accounts and why, bad debt and the
receivable by currency, recoveries, and accounts lifting out of bad debt.

Every family here is computed from the read models (at scrape time, or derived from events):
each API process reports the same values, so they are taken with `max without (instance, job)`,
never summed."""

from __future__ import annotations

from adapters.grafana.panels import Dashboard, Query, Section, panel

SAME = "max without (instance, job)"


def dashboard() -> Dashboard:
    return Dashboard(
        uid="billing-account-health",
        title="Billing: account health",
        description="Accounts by health state, stuck accounts, bad debt and recoveries "
        "(docs/observability.md, Dashboards).",
        sections=(_states(), _money(), _recoveries(), _read()),
    )


def _states() -> Section:
    return Section(
        "Health states",
        (
            panel(
                "Accounts by health state",
                "billing_accounts: every account in the one state queries/health.py gives it.",
                "short",
                Query(f"{SAME} (billing_accounts)", "{{state}}"),
                stacked=True,
            ),
            panel(
                "Stuck accounts by reason",
                "billing_stuck_accounts: an account stuck for two reasons counts under both. "
                "Alert BillingAccountsStuck fires after 15 minutes above 0.",
                "short",
                Query(f"{SAME} (billing_stuck_accounts)", "{{reason}}"),
            ),
            panel(
                "Oldest attempt in flight",
                "How long the oldest payment attempt has waited for its processor; past 15 "
                "minutes its account is stuck (attempt_in_flight).",
                "s",
                Query(f"{SAME} (billing_oldest_attempt_in_flight_age_seconds)", "oldest attempt"),
            ),
            panel(
                "Payments waiting for the customer",
                "Attempts waiting for the customer to authenticate (3-D Secure), unexpired.",
                "short",
                Query(f"{SAME} (billing_payments_waiting_for_customer)", "waiting"),
            ),
        ),
    )


def _money() -> Section:
    return Section(
        "Money owed",
        (
            panel(
                "Bad debt by currency (minor units)",
                "Uncollectible invoices' amount due, in minor units of each currency.",
                "short",
                Query(f"{SAME} (billing_bad_debt_minor_units)", "{{currency}}"),
            ),
            panel(
                "Open receivable by currency (minor units)",
                "Open invoices' amount due, in minor units of each currency.",
                "short",
                Query(f"{SAME} (billing_open_receivable_minor_units)", "{{currency}}"),
            ),
        ),
    )


def _recoveries() -> Section:
    return Section(
        "Recoveries",
        (
            panel(
                "Lifting and bad debt",
                "Accounts in bad debt, and those lifting out of it (their bad debt paid, the "
                "lift under way).",
                "short",
                Query(f'{SAME} (billing_accounts{{state=~"bad_debt|lifting"}})', "{{state}}"),
            ),
            panel(
                "Dunning outcomes per hour",
                "Invoices whose dunning ended: recovered (paid on a retry) or exhausted.",
                "short",
                Query(
                    f"sum by (outcome) ({SAME} (increase(billing_dunning_outcomes_total[1h])))",
                    "{{outcome}}",
                ),
            ),
            panel(
                "Bad debt paid and written off per hour",
                "Bad-debt payments (full or partial coverage of what the account owes) and "
                "write-offs.",
                "short",
                Query(
                    f"sum by (coverage) ({SAME} (increase(billing_bad_debt_payments_total[1h])))",
                    "paid ({{coverage}})",
                ),
                Query(
                    f"sum({SAME} (increase(billing_bad_debt_write_offs_total[1h])))",
                    "written off",
                ),
            ),
            panel(
                "Invoice transitions per hour",
                "Invoices entering each state (recovered: paid after being uncollectible).",
                "short",
                Query(
                    f"sum by (to) ({SAME} (increase(billing_invoice_transitions_total[1h])))",
                    "{{to}}",
                ),
            ),
            panel(
                "Recomputes per hour",
                "Recomputes requested (from the events), and what they came to: completed, "
                "refused (another one running) or failed.",
                "short",
                Query(
                    f"sum by (outcome) ({SAME} (increase(billing_recomputes_total[1h])))",
                    "{{outcome}}",
                ),
                Query(
                    f"sum by (outcome) ({SAME} (increase(billing_recompute_outcomes_total[1h])))",
                    "{{outcome}}",
                ),
                width=24,
            ),
        ),
    )


def _read() -> Section:
    return Section(
        "Reading the business state",
        (
            panel(
                "Read duration",
                "How long the last read of the business state, and of the business flow, "
                "took in each API process.",
                "s",
                Query(
                    "max by (instance) (billing_business_state_read_duration_seconds)",
                    "state {{instance}}",
                ),
                Query(
                    "max by (instance) (billing_business_flow_read_duration_seconds)",
                    "flow {{instance}}",
                ),
            ),
            panel(
                "Read errors",
                "Reads the database did not answer: the scrapes they served carried no "
                "business state (or flow) family.",
                "short",
                Query(
                    "sum(increase(billing_business_state_read_errors_total[$__rate_interval]))",
                    "business state",
                ),
                Query(
                    "sum(increase(billing_business_flow_read_errors_total[$__rate_interval]))",
                    "business flow",
                ),
            ),
        ),
    )
