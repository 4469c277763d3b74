"""The surface table (adapters/http/surfaces.py): each surface registers a route once, an
own-account surface offers only routes on an account's path, and a handler is written once
however many surfaces offer it."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest
from fastapi.routing import APIRoute

from adapters.http import surfaces
from adapters.http.routers import accounts, invoices
from adapters.http.surface import Feature, HttpSurface, router


def _operations(surface: HttpSurface) -> list[tuple[str, str]]:
    return [
        (method, route.path)
        for route in router(surface).routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    ]


@pytest.mark.parametrize("surface", surfaces.SURFACES, ids=lambda s: s.name)
def test_a_surface_registers_each_operation_once_under_its_prefix(surface: HttpSurface) -> None:
    operations = _operations(surface)
    assert operations
    assert [op for op, n in Counter(operations).items() if n > 1] == []
    assert all(path.startswith(surface.prefix + "/") for _, path in operations)


def test_an_own_account_surface_refuses_a_route_without_the_account_in_its_path() -> None:
    listing = Feature(accounts.LIST.routes)
    with pytest.raises(ValueError, match="own accounts only: /accounts"):
        router(replace(surfaces.CUSTOMER, features=(listing,)))


def test_one_feature_offered_on_three_surfaces_builds_one_handler_per_surface() -> None:
    offering = [s for s in surfaces.SURFACES if invoices.READS in s.features]
    assert len(offering) == 3
    handlers = {
        route.endpoint.__code__
        for s in offering
        for route in router(s).routes
        if isinstance(route, APIRoute) and route.path.endswith("/invoices")
    }
    assert len(handlers) == 1  # the same code, built with each surface's caller
