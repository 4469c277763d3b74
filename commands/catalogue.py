"""The plan catalogue, from configuration (a JSON file) or the built-in default."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

from ledger.money import Money
from ledger.subscriptions import Plan, PlanNotFound

DEFAULT_PLANS = (
    Plan("pro-monthly-usd", "Pro", 1, Money(2000, "USD")),
    Plan("pro-yearly-usd", "Pro", 12, Money(20000, "USD")),
    Plan("business-monthly-usd", "Business", 1, Money(20000, "USD")),
    Plan("pro-monthly-eur", "Pro", 1, Money(2000, "EUR")),
    Plan("business-monthly-eur", "Business", 1, Money(20000, "EUR")),
    Plan("pro-monthly-gbp", "Pro", 1, Money(1800, "GBP")),
    Plan("business-monthly-gbp", "Business", 1, Money(18000, "GBP")),
    Plan("pro-monthly-jpy", "Pro", 1, Money(2500, "JPY")),  # zero-decimal: 2,500 yen
)


class StaticCatalogue:
    def __init__(self, plans: Iterable[Plan] = DEFAULT_PLANS) -> None:
        self._plans = {p.plan_id: p for p in plans}

    def plan(self, plan_id: str) -> Plan:
        try:
            return self._plans[plan_id]
        except KeyError:
            raise PlanNotFound(plan_id) from None

    def plans(self) -> list[Plan]:
        return list(self._plans.values())

    @classmethod
    def from_file(cls, path: Path) -> StaticCatalogue:
        """[{"plan_id", "product", "interval_months", "amount", "currency"}, ...]"""
        rows = json.loads(path.read_text())
        return cls(
            Plan(
                r["plan_id"],
                r["product"],
                int(r["interval_months"]),
                Money(int(r["amount"]), r["currency"]),
            )
            for r in rows
        )
