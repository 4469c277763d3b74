"""The long seeded run (`python -m bench.soak`), short: every rule and invariant exercised,
the same seed makes the same run, and a failure names the seed and the operation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import soak
from bench.soak import OPEN, WIND_DOWN, Soak, SoakFailure, main
from tests.model.account import RULES, AccountModel
from tests.model.invariants import INVARIANTS, read_models_equal_a_rebuild


def test_a_few_thousand_operations_exercise_every_rule_and_check_every_invariant(
    tmp_path: Path,
) -> None:
    out = tmp_path / "soak.json"
    assert main(["--ops", "2000", "--seed", "11", "--progress", "500", "--json", str(out)]) == 0
    summary = json.loads(out.read_text())
    assert (summary["ops"], summary["seed"], summary["stopped_by_time_limit"]) == (2000, 11, False)
    assert set(summary["ops_by_kind"]) == {*RULES, OPEN, WIND_DOWN}
    assert sum(summary["ops_by_kind"].values()) == 2000
    names = [check.__name__ for check in (*INVARIANTS, read_models_equal_a_rebuild)]
    assert summary["invariant_checks"] == dict.fromkeys(names, 2000)
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
    assert summary["accounts"] == summary["ops_by_kind"][OPEN]  # the last one cut short
    assert summary["events"] == sum(summary["events_by_type"].values())
    assert {
        "PaymentSucceeded",
        "PaymentFailed",
        "PaymentActionRequired",
        "InvoiceMarkedUncollectible",
        "AccountClosed",
    } <= set(summary["events_by_type"])
    assert summary["machine"]["cores"] >= 1


def test_the_same_seed_makes_the_same_run() -> None:
    first, again, other = (Soak(seed, 300, (5, 40)) for seed in (3, 3, 4))
    for run in (first, again, other):
        run.run(lambda: None)
    assert first.tally == again.tally
    assert first.tally.commands != other.tally.commands


def test_a_broken_invariant_names_the_seed_and_the_operation_to_rerun(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def at_most_two_invoices(model: AccountModel) -> None:
        assert len(model.account().invoices) <= 2

    monkeypatch.setattr(soak, "INVARIANTS", (*INVARIANTS, at_most_two_invoices))
    with pytest.raises(SoakFailure) as failed:
        Soak(5, 2000, (20, 200)).run(lambda: None)
    message = str(failed.value)
    assert "seed 5: operation " in message
    index = int(message.split("operation ")[1].split()[0])
    assert f"--seed 5 --ops {index + 1}" in message

    assert main(["--seed", "5", "--ops", str(index + 1)]) == 1
    assert f"operation {index} " in capsys.readouterr().err
    assert main(["--seed", "5", "--ops", str(index)]) == 0
