import json
from pathlib import Path

import pytest

from commands.catalogue import StaticCatalogue
from ledger.money import Money
from ledger.subscriptions import PlanNotFound


def test_a_catalogue_file_defines_the_plans(tmp_path: Path) -> None:
    path = tmp_path / "plans.json"
    path.write_text(
        json.dumps(
            [
                {
                    "plan_id": "team-yearly-jpy",
                    "product": "Team",
                    "interval_months": 12,
                    "amount": 120000,
                    "currency": "JPY",
                },
            ]
        )
    )
    catalogue = StaticCatalogue.from_file(path)
    plan = catalogue.plan("team-yearly-jpy")
    assert (plan.price, plan.interval_months) == (Money(120000, "JPY"), 12)
    with pytest.raises(PlanNotFound):
        catalogue.plan("pro-monthly-usd")


def test_a_plan_needs_a_known_interval_and_a_price_in_minor_units(tmp_path: Path) -> None:
    path = tmp_path / "plans.json"
    path.write_text(
        json.dumps(
            [
                {
                    "plan_id": "odd",
                    "product": "Odd",
                    "interval_months": 5,
                    "amount": 1,
                    "currency": "USD",
                },
            ]
        )
    )
    with pytest.raises(ValueError, match="interval"):
        StaticCatalogue.from_file(path)
