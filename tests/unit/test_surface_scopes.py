"""Every route of every surface says the scope its caller needs, however its handler
declares the caller (`= Depends(...)` or `Annotated[..., Depends(...)]`): another edge that
runs the handler (the console, the billing pages) checks that scope as the route does."""

from __future__ import annotations

import pytest

from adapters.http.auth import SCOPES
from adapters.http.surface import HttpSurface, Route, scope_of
from adapters.http.surfaces import CUSTOMER, SURFACES

ROUTES = [(s, r) for s in SURFACES for f in s.features for r in f.routes]


@pytest.mark.parametrize(
    ("surface", "route"), ROUTES, ids=[f"{s.name}:{r.operation_name(s)}" for s, r in ROUTES]
)
def test_every_routes_handler_names_its_scope(surface: HttpSurface, route: Route) -> None:
    assert scope_of(route.build(surface)) in SCOPES


def test_the_customers_invoice_list_and_plan_preview_need_read_scope() -> None:
    by_name = {r.operation_name(CUSTOMER): r for f in CUSTOMER.features for r in f.routes}
    for name in ("customer_list", "plan_preview"):
        assert scope_of(by_name[name].build(CUSTOMER)) == "accounts:read"
