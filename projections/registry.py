"""Every projection the ledger maintains, by name."""

from __future__ import annotations

from typing import Any

from projections.accounts import AccountsProjection
from projections.base import Projection
from projections.business_flow import BusinessFlowProjection
from projections.detail import AccountDetailProjection
from projections.health import HealthProjection
from projections.invoices import InvoicesProjection


def all_projections() -> dict[str, Projection[Any]]:
    projections: list[Projection[Any]] = [
        AccountsProjection(),
        InvoicesProjection(),
        HealthProjection(),
        AccountDetailProjection(),
        BusinessFlowProjection(),
    ]
    return {p.name: p for p in projections}
