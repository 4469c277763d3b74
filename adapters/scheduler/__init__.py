"""Scheduled work: the billing run, the in-flight janitor, credit expiry and reconciliation
of recently active accounts, each on its own interval (settings `LEDGER_SCHEDULER_*`).

`jobs` says what each job does (the same commands as `ledger billing run`, `ledger billing
resolve-in-flight` and `ledger reconcile`), `metrics` what each run exports, `leader` how
one scheduler across processes is active (a PostgreSQL session advisory lock; the others
stand by and take over when its session ends) and `runner` how APScheduler runs them.
"""
