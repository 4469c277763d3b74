"""The long seeded run (`python -m bench.soak`), short: every rule and invariant exercised,
the same seed makes the same run (with one worker or two), and a failure names the seed,
the account and the operation that rerun it alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.soak import (
    OPEN,
    WIND_DOWN,
    AccountRun,
    Settings,
    Soak,
    SoakFailure,
    main,
    operations_of,
    plan,
)
from tests.model import invariants
from tests.model.account import RULES, AccountModel

EVERY_OPERATION = [c.__name__ for c in (*invariants.INVARIANTS, *invariants.FOLD_CHECKS)]
DEEP = [c.__name__ for c in (*invariants.DEEP_INVARIANTS, *invariants.DEEP_FOLD_CHECKS)]


def test_a_few_thousand_operations_exercise_every_rule_and_check_every_invariant(
    tmp_path: Path,
) -> None:
    out = tmp_path / "soak.json"
    argv = ["--ops", "2000", "--seed", "11", "--deep-every", "5", "--json", str(out)]
    assert main([*argv, "--progress", "500"]) == 0
    summary = json.loads(out.read_text())
    assert (summary["ops"], summary["seed"], summary["stopped_by_time_limit"]) == (2000, 11, False)
    assert set(summary["ops_by_kind"]) == {*RULES, OPEN, WIND_DOWN}
    assert sum(summary["ops_by_kind"].values()) == 2000
    checks = summary["invariant_checks"]
    assert {name: checks[name] for name in EVERY_OPERATION} == dict.fromkeys(EVERY_OPERATION, 2000)
    # every fifth operation of each account (its opening first) and each account's last one
    runs = list(plan(Settings(11, deep_every=5), 2000))
    lengths = [len(_operations(11, run)) for run in runs]
    deep = sum(len(range(0, n, 5)) + ((n - 1) % 5 != 0) for n in lengths)
    assert {name: checks[name] for name in DEEP} == dict.fromkeys(DEEP, deep)
    accepted = {k for k, n in summary["commands"].items() if n and "refused" not in k}
    assert accepted >= {
        "open_account",
        "add_card",
        "add_paypal",
        "subscribe",
        "change_plan",
        "cancel_subscription",
        "run_billing",
        "pay_invoice",
        "refund_payment",
        "open_dispute",
        "close_dispute",
        "grant_credit",
        "revoke_credit",
        "write_off_bad_debt",
        "void_invoice",
        "close_account",
    }
    assert summary["accounts"] == summary["ops_by_kind"][OPEN] == len(runs)
    assert summary["ops_by_kind"][WIND_DOWN] == len(runs) - (runs[-1].ops is not None)
    assert summary["events"] == sum(summary["events_by_type"].values())
    assert {
        "PaymentSucceeded",
        "PaymentFailed",
        "PaymentActionRequired",
        "InvoiceMarkedUncollectible",
        "AccountClosed",
    } <= set(summary["events_by_type"])
    assert summary["machine"]["cores"] >= 1


def _operations(seed: int, run: AccountRun) -> list[str]:
    ops = operations_of(seed, run.index, (20, 200))
    return ops[: run.ops] if run.ops is not None else ops


def test_the_same_seed_makes_the_same_run_with_one_worker_or_two() -> None:
    def tally(seed: int, workers: int) -> object:
        soak = Soak(Settings(seed, (5, 40)), 300, workers)
        return soak.run(lambda: None)

    first = tally(3, 1)
    assert first == tally(3, 1) == tally(3, 2)
    assert first != tally(4, 1)


def test_a_broken_invariant_names_the_account_and_operation_to_rerun_alone(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def at_most_two_invoices(model: AccountModel) -> None:
        assert len(model.account().invoices) <= 2

    monkeypatch.setattr(invariants, "INVARIANTS", (*invariants.INVARIANTS, at_most_two_invoices))
    with pytest.raises(SoakFailure) as failed:
        Soak(Settings(5), 2000).run(lambda: None)
    failure = failed.value
    assert "at_most_two_invoices" in failure.cause
    rerun = f"--seed 5 --account {failure.account} --ops {failure.op + 1}"
    assert str(failure).startswith(f"seed 5: account {failure.account}, operation {failure.op} ")
    assert rerun in str(failure)

    assert main(rerun.split()) == 1
    assert f"account {failure.account}, operation {failure.op} " in capsys.readouterr().err
    assert main(["--seed", "5", "--account", str(failure.account), "--ops", str(failure.op)]) == 0
