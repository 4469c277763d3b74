"""Dashboards and alerts checked against the real thing: Debian's Prometheus server
(/usr/bin/prometheus, installed by scripts/setup-services) scrapes the real API's /metrics
(served by uvicorn, with its bearer token), and the `ledger relay`, `ledger project` and
`ledger scheduler` processes' --metrics-port, and evaluates deploy/prometheus/alerts.yml,
while a scenario runs through the application: payments, a soft decline, a payment waiting
for 3-D Secure, dunning to bad debt, a bad-debt payment, a recompute, Stripe webhooks (one
acknowledged twice, one forged), a Turnstile check, requests over the rate limit, a /readyz
503 while the projector has not started, a rebuild left interrupted, and a payment left in
flight past 15 minutes (the test's clock).

Then every PromQL expression of every panel of every generated dashboard (adapters/grafana/), and
every alert rule's expression, is evaluated through Prometheus's HTTP API (/api/v1/query):
each must be valid and return at least one series (no misspelt metric or label, no wrong
aggregation leaving nothing). The dashboards' Grafana variables are given the values
Grafana would (`$__rate_interval`: 1m, `$__range`: 1h). An alert's expression filters its
series by its threshold, so it is evaluated as its signal: each comparison with a number
becomes a `bool` comparison (every series stays, valued 0 or 1), and `absent(x)` becomes `x`
(absent() returns a series only while x has none). The stuck-account alert must fire: the
rule file Prometheus loads is a copy of alerts.yml whose BillingAccountsStuck waits 2 s
instead of 15 minutes (nothing else changed). Finally `promtool check metrics` finds no
problem in any process's /metrics.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import httpx
import pytest
import uvicorn
import yaml
from pydantic import SecretStr

from adapters.bootstrap import Container, build
from adapters.grafana.catalogue import dashboards
from adapters.http.app import create_app
from adapters.http.auth import SCOPES, ApiKeyEntry, ApiKeys, hash_key
from adapters.recompute import recompute
from adapters.settings import Settings
from commands import bad_debt, dunning
from commands.base import load_account
from commands.models import PayBadDebt, RunBilling
from commands.ports import ProcessorUnavailable
from ledger.meta import ActorKind
from projections import rebuild
from tests.fakes.builders import customer_ctx, support_ctx, system_ctx
from tests.fakes.clock import FixedClock
from tests.fakes.gateway import FakeGateway
from tests.fakes.turnstile_server import TurnstileServer
from tests.harness import KafkaServer, LocalStripeServer, free_ports
from tests.harness.process import wait_until
from tests.integration.test_business_metrics import account, subscribe
from tests.integration.test_stripe_webhooks import intent_event, signed

REPO_ROOT = Path(__file__).resolve().parents[2]
RULES = REPO_ROOT / "deploy" / "prometheus" / "alerts.yml"
PROMETHEUS = Path("/usr/bin/prometheus")
LEDGER = Path(sys.executable).parent / "ledger"
TOKEN = "scrape-token-0123456789"
WEBHOOK_SECRET = "whsec_prometheus_e2e"
SITE_KEY, TURNSTILE_SECRET = "0x4AAAAAAAe2esitekey", "0x4AAAAAAAe2esecret"
SERVICE_KEY = "sk_svc_prometheus_e2e_0123456789"
STUCK_FOR = "2s"
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__range": "1h"}
JOBS = ("api", "relay", "projector", "scheduler")
_SCHEDULED_JOBS = ("BILLING_RUN", "JANITOR", "CREDIT_EXPIRY", "RECONCILE")

pytestmark = pytest.mark.e2e


# ---------------------------------------------------------------- the processes


class LedgerProcess:
    """`ledger <command> --metrics-port <port>` over the test's database and topic."""

    def __init__(self, command: str, port: int, settings: Settings, log: Path) -> None:
        self.command, self.port, self.log = command, port, log
        self.proc: subprocess.Popen[bytes] | None = None
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
        self.env = env | {
            "LEDGER_DATABASE_URL": settings.database_url or "",
            "LEDGER_KAFKA_BOOTSTRAP": str(settings.kafka_bootstrap),
            "LEDGER_TOPIC": settings.topic,
            "LEDGER_LOG_JSON": "true",
            "LEDGER_METRICS_CACHE_S": "0.5",
            # The scheduler's jobs run at the real time, not the test's clock: none runs
            # during the test (each runs one interval after a scheduler first starts).
            **{f"LEDGER_SCHEDULER_{job}_S": "86400" for job in _SCHEDULED_JOBS},
        }

    def start(self) -> LedgerProcess:
        with self.log.open("ab") as sink:
            self.proc = subprocess.Popen(
                [str(LEDGER), self.command, "--metrics-port", str(self.port)],
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def metrics(self) -> str:
        return httpx.get(f"http://127.0.0.1:{self.port}/metrics", timeout=5).text

    def wait_serving(self, timeout_s: float = 60) -> None:
        proc = self.proc
        assert proc is not None
        why = wait_until(
            lambda: _answers(lambda: "billing_" in self.metrics()),
            timeout_s=timeout_s,
            alive=lambda: proc.poll() is None,
            interval_s=0.2,
        )
        assert why is None, f"{why}: {self.tail()}"

    def tail(self) -> str:
        return f"--- ledger {self.command} ---\n" + self.log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


class Prometheus:
    """Debian's Prometheus server on a free loopback port, its data in a temporary folder."""

    def __init__(self, work: Path, port: int, scrape: dict[str, int], api_port: int) -> None:
        self.port, self.log = port, work / "prometheus.log"
        rules = work / "alerts.yml"
        rules.write_text(yaml.safe_dump(stuck_alert_soon(yaml.safe_load(RULES.read_text()))))
        config = work / "prometheus.yml"
        config.write_text(yaml.safe_dump(scrape_config(rules, scrape, api_port)))
        with self.log.open("ab") as sink:
            self.proc = subprocess.Popen(
                [
                    str(PROMETHEUS),
                    f"--config.file={config}",
                    f"--storage.tsdb.path={work / 'data'}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                ],
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout_s: float = 60) -> None:
        why = wait_until(
            lambda: _answers(lambda: httpx.get(f"{self.url}/-/ready", timeout=2).is_success),
            timeout_s=timeout_s,
            alive=lambda: self.proc.poll() is None,
            interval_s=0.2,
        )
        assert why is None, f"{why}: {self.tail()}"

    def query(self, expr: str) -> dict[str, Any]:
        answer = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10)
        body: dict[str, Any] = answer.json()
        return body

    def targets_up(self) -> dict[str, float]:
        result = self.query("up")["data"]["result"]
        return {r["metric"]["job"]: float(r["value"][1]) for r in result}

    def alerts(self) -> list[dict[str, Any]]:
        answer = httpx.get(f"{self.url}/api/v1/alerts", timeout=10).json()
        alerts: list[dict[str, Any]] = answer["data"]["alerts"]
        return alerts

    def tail(self) -> str:
        try:
            targets = httpx.get(f"{self.url}/api/v1/targets", timeout=10).text
        except httpx.TransportError as error:
            targets = f"(not answering: {error})"
        log = self.log.read_text(errors="replace")[-3000:]
        return f"--- prometheus ---\n{log}\n--- its targets ---\n{targets}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def stuck_alert_soon(rules: dict[str, Any]) -> dict[str, Any]:
    """alerts.yml with BillingAccountsStuck waiting STUCK_FOR instead of 15 minutes."""
    changed = 0
    for group in rules["groups"]:
        for rule in group["rules"]:
            if rule.get("alert") == "BillingAccountsStuck":
                rule["for"] = STUCK_FOR
                changed += 1
    assert changed == 1
    return rules


def scrape_config(rules: Path, scrape: dict[str, int], api_port: int) -> dict[str, Any]:
    jobs: list[dict[str, Any]] = [
        {
            "job_name": "api",
            "authorization": {"type": "Bearer", "credentials": TOKEN},
            "static_configs": [{"targets": [f"127.0.0.1:{api_port}"]}],
        }
    ]
    jobs += [
        {"job_name": job, "static_configs": [{"targets": [f"127.0.0.1:{port}"]}]}
        for job, port in scrape.items()
    ]
    return {
        "global": {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": jobs,
    }


@dataclass
class Stack:
    container: Container
    gateway: FakeGateway
    clock: FixedClock
    turnstile: TurnstileServer
    api_url: str
    relay: LedgerProcess
    projector: LedgerProcess
    scheduler: LedgerProcess
    prometheus: Prometheus


@contextmanager
def served_api(container: Container, port: int) -> Iterator[str]:
    """The app over real HTTP (uvicorn in a thread), with a service key."""
    entry = ApiKeyEntry(
        sha256=hash_key(SERVICE_KEY), id="svc", kind=ActorKind.SERVICE, scopes=frozenset(SCOPES)
    )
    config = uvicorn.Config(
        create_app(container, ApiKeys([entry])), host="127.0.0.1", port=port, log_config=None
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@pytest.fixture
def stack(
    database_url: str,
    kafka_server: KafkaServer,
    localstripe: LocalStripeServer,
    clock: FixedClock,
    gateway: FakeGateway,
    tmp_path: Path,
) -> Iterator[Stack]:
    assert PROMETHEUS.is_file(), "no /usr/bin/prometheus: run scripts/setup-services"
    turnstile = TurnstileServer()
    turnstile.site(SITE_KEY, TURNSTILE_SECRET)
    settings = Settings(
        database_url=database_url,
        kafka_bootstrap=kafka_server.bootstrap,
        topic=f"billing.events.{uuid4().hex[:8]}",
        pool_size=4,
        stripe_api_key=SecretStr(localstripe.api_key),  # the Stripe guard: its breaker
        stripe_api_base=localstripe.url,
        stripe_lookup="list",
        stripe_disputes=False,
        stripe_webhook_secret=SecretStr(WEBHOOK_SECRET),
        turnstile_site_key=SITE_KEY,
        turnstile_secret=SecretStr(TURNSTILE_SECRET),
        turnstile_url=turnstile.url,
        metrics_token=SecretStr(TOKEN),
        metrics_cache_s=0.5,
        ready_max_lag_events=0,
        rate_limit="5/minute",
    )
    container = build(settings, clock=clock)
    container.deps = dataclasses.replace(container.deps, gateway=gateway)
    # Chosen together, so that no two are the same (each process binds its own later).
    api_port, prometheus_port, *process_ports = free_ports(2 + len(JOBS[1:]))
    ports = dict(zip(JOBS[1:], process_ports, strict=True))
    relay, projector, scheduler = (
        LedgerProcess(command, ports[job], settings, tmp_path / f"{job}.log")
        for command, job in (
            ("relay", "relay"),
            ("project", "projector"),
            ("scheduler", "scheduler"),
        )
    )
    prometheus: Prometheus | None = None
    try:
        with turnstile.running(), served_api(container, api_port) as api_url:
            relay.start().wait_serving()  # the relay first: it creates the topic
            scheduler.start().wait_serving()
            prometheus = Prometheus(tmp_path, prometheus_port, ports, api_port)
            prometheus.wait_ready()
            yield Stack(
                container,
                gateway,
                clock,
                turnstile,
                api_url,
                relay,
                projector,
                scheduler,
                prometheus,
            )
    finally:
        for each in (projector, scheduler, relay):
            each.stop()
        if prometheus is not None:
            prometheus.stop()
        container.close()


# ---------------------------------------------------------------- the scenario


@dataclass(frozen=True)
class Accounts:
    healthy: UUID
    past_due: UUID
    waiting: UUID
    bad_usd: UUID
    bad_gbp: UUID
    stuck: UUID


def business_scenario(stack: Stack) -> Accounts:
    """Through the application's commands (the scripted gateway as the processor): two
    accounts dunned to bad debt and one of them paying it, a paid subscription and its
    recompute, a soft decline, a payment left in flight 20 minutes, one waiting for 3-D
    Secure."""
    deps, gateway, clock = stack.container.deps, stack.gateway, stack.clock
    bad_usd, bad_gbp = account(deps, "USD", "pm_bad_usd"), account(deps, "GBP", "pm_bad_gbp")
    subscribe(deps, bad_usd, "USD")
    subscribe(deps, bad_gbp, "GBP")
    clock.advance(days=31)
    for ref in ("pm_bad_usd", "pm_bad_gbp"):
        gateway.always_decline(ref, "insufficient_funds")
    for _ in range(12):  # the renewal, its retries, then uncollectible
        report = dunning.run_billing(deps, RunBilling(account_ids=[bad_usd, bad_gbp]), system_ctx())
        assert report.errors == {}
        clock.advance(days=1)
    gateway._always.clear()
    bad_debt.pay_bad_debt(deps, PayBadDebt(account_id=bad_gbp), customer_ctx(uuid4()))

    healthy = account(deps, "USD", "pm_ok")
    subscribe(deps, healthy, "USD")
    recompute(stack.container, healthy, support_ctx("checking the read models"))
    past_due = account(deps, "USD", "pm_soft")
    gateway.decline_next("pm_soft", "insufficient_funds")
    subscribe(deps, past_due, "USD", on_session=False)
    stuck = account(deps, "USD", "pm_stuck")
    gateway.go_down_next("pm_stuck")
    with pytest.raises(ProcessorUnavailable):
        subscribe(deps, stuck, "USD", on_session=False)
    clock.advance(minutes=20)  # past the 15 minutes after which an attempt in flight is stuck
    waiting = account(deps, "GBP", "pm_3ds")
    gateway.require_action_next("pm_3ds")
    subscribe(deps, waiting, "GBP")
    return Accounts(healthy, past_due, waiting, bad_usd, bad_gbp, stuck)


def edge_scenario(stack: Stack, accounts: Accounts) -> None:
    """Over HTTP: a Stripe delivery about a settled payment, delivered twice (received, and
    a duplicate each time), a forged one; a Turnstile check; a key over its rate limit. And
    a rebuild of the accounts read model prepared, then left (interrupted, resumable)."""
    container = stack.container
    attempt_id = next(iter(load_account(container.deps.app, accounts.healthy).attempts))
    event = intent_event("payment_intent.succeeded", "pi_e2e", attempt_id, accounts.healthy)
    hook = f"{stack.api_url}/webhooks/stripe"
    for _ in range(2):
        body, headers = signed(event, WEBHOOK_SECRET)
        answer = httpx.post(hook, content=body, headers=headers, timeout=10)
        assert (answer.status_code, answer.json()["outcome"]) == (200, "already_settled")
    body, headers = signed(event, "whsec_someone_else")
    forged = httpx.post(hook, content=body, headers=headers, timeout=10)
    assert (forged.status_code, forged.json()["code"]) == (400, "invalid_signature")

    checkout = container.checkout
    assert checkout is not None
    token = stack.turnstile.mint(SITE_KEY)
    assert checkout.human_check.verify(token, "198.51.100.7", "check-e2e").passed

    key = {"Authorization": f"Bearer {SERVICE_KEY}"}
    path = f"{stack.api_url}/v1/accounts/{accounts.healthy}"
    statuses = [httpx.get(path, headers=key, timeout=10).status_code for _ in range(6)]
    # rate_limit: 5/minute per principal (a service key reads no customer's account: 403s)
    assert statuses == [403] * 5 + [429]

    projection = container.projections["accounts"]
    with container.connection() as conn, rebuild.exclusive_rebuild(conn, projection.name):
        conn.commit()
        rebuild.prepare(conn, projection, container.reader.head(), fresh=True)
        conn.commit()


def _answers(check: Callable[[], bool]) -> bool:
    """`check`, False while the process does not accept connections yet."""
    try:
        return check()
    except httpx.TransportError:
        return False


def wait_for(what: str, done: Any, stack: Stack, timeout_s: float = 90) -> Any:
    """`done()`'s first truthy answer, polled; the processes' logs if it never comes."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = done()
        if found:
            return found
        if time.monotonic() > deadline:
            logs = "\n".join(
                p.tail() for p in (stack.relay, stack.projector, stack.scheduler, stack.prometheus)
            )
            pytest.fail(f"timed out waiting for {what}\n{logs}")
        time.sleep(0.5)


def single_value(stack: Stack, expr: str) -> float | None:
    result = stack.prometheus.query(expr)["data"]["result"]
    return float(result[0]["value"][1]) if result else None


# ---------------------------------------------------------------- what is evaluated


def panel_expressions() -> dict[str, str]:
    """Every query of every generated dashboard, with Grafana's variables given values."""
    found = {}
    for spec in dashboards():
        for section in spec.sections:
            for panel in section.panels:
                for index, query in enumerate(panel.queries):
                    expr = query.expr
                    for variable, value in GRAFANA_VARIABLES.items():
                        expr = expr.replace(variable, value)
                    found[f"{spec.uid} / {panel.title} [{index}]"] = expr
    return found


COMPARISON = re.compile(r"(>=|<=|==|!=|>|<)\s*(?=[\d(.])")


def signal_of(expr: str) -> str:
    """An alert's expression keeping every series: comparisons with a number become `bool`
    comparisons (0 or 1 instead of filtering), and absent(x) becomes x."""
    return COMPARISON.sub(r"\1 bool ", expr).replace("absent(", "(")


def alert_expressions() -> dict[str, str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {
        f"alert {rule['alert']}": signal_of(rule["expr"])
        for group in groups
        for rule in group["rules"]
        if "alert" in rule
    }


def problem(stack: Stack, expr: str) -> str | None:
    """Why `expr` does not pass: Prometheus refused it, or it returned no series."""
    body = stack.prometheus.query(expr)
    if body.get("status") != "success":
        return f"refused: {body.get('error')}"
    if not body["data"]["result"]:
        return "no series"
    return None


def promtool_problems(text: str) -> str:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is not on PATH: run scripts/setup-services"
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    return "" if checked.returncode == 0 else checked.stdout + checked.stderr


# ---------------------------------------------------------------- the test


def run_scenario(stack: Stack) -> None:
    """The scenario, the projector started once /readyz has answered 503 (nothing projected
    yet: LEDGER_READY_MAX_LAG_EVENTS=0), until every target is up and has reported."""
    accounts = business_scenario(stack)
    assert httpx.get(f"{stack.api_url}/readyz", timeout=10).status_code == 503
    stack.projector.start().wait_serving()
    wait_for(
        "the projections to catch up",
        lambda: single_value(stack, "max(billing_projection_lag_events)") == 0,
        stack,
    )
    edge_scenario(stack, accounts)
    # The projector reports its consumer group's lag every 15 s.
    wait_for(
        "the projector's consumer lag",
        lambda: single_value(stack, "max(billing_projection_consumer_lag_messages)") is not None,
        stack,
    )
    every_target_up = dict.fromkeys(JOBS, 1.0)
    wait_for(
        "every target to be up",
        lambda: stack.prometheus.targets_up() == every_target_up,
        stack,
        timeout_s=30,
    )


def test_promtool_finds_no_problem_in_any_process_metrics(stack: Stack) -> None:
    run_scenario(stack)
    api_metrics = httpx.get(
        f"{stack.api_url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    ).text
    scraped = {"api": api_metrics} | {
        p.command: p.metrics() for p in (stack.relay, stack.projector, stack.scheduler)
    }
    assert all("billing_" in text for text in scraped.values())
    problems = {name: promtool_problems(text) for name, text in scraped.items()}
    assert problems == dict.fromkeys(scraped, "")


def test_every_panel_and_alert_returns_series_and_the_stuck_alert_fires(stack: Stack) -> None:
    run_scenario(stack)

    def stuck_alert() -> list[dict[str, Any]]:
        return [
            a
            for a in stack.prometheus.alerts()
            if a["labels"]["alertname"] == "BillingAccountsStuck"
            and a["labels"]["reason"] == "attempt_in_flight"
            and a["state"] == "firing"
        ]

    [fired] = wait_for("BillingAccountsStuck to fire", stuck_alert, stack)
    assert fired["labels"]["severity"] == "page"
    assert fired["annotations"]["runbook_url"] == "docs/operations.md#runbook-stuck-accounts"
    assert float(fired["value"]) == 1

    time.sleep(3)  # three more scrapes after the last change: every rate has two samples
    expressions = panel_expressions() | alert_expressions()
    assert len(expressions) > 40
    problems = {name: why for name, expr in expressions.items() if (why := problem(stack, expr))}
    assert problems == {}, "\n".join(
        f"{name}: {why}\n    {expressions[name]}" for name, why in problems.items()
    )


def test_signal_of_keeps_every_series_of_an_alert() -> None:
    assert signal_of("max by (reason) (x) > 0") == "max by (reason) (x) > bool 0"
    assert (
        signal_of('rate(x{status=~"5.."}[5m]) > 0.05') == 'rate(x{status=~"5.."}[5m]) > bool 0.05'
    )
    assert signal_of("sum(x) != 1 or absent(x)") == "sum(x) != bool 1 or (x)"
    assert (
        signal_of('(time() - max(y{j!="a"}) > 3 * 300)')
        == '(time() - max(y{j!="a"}) > bool 3 * 300)'
    )
