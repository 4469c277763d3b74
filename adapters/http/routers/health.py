"""Account health (scope `accounts:read`) for the service (iAPI) and support (NinjaPanel)
surfaces: one account's health, and the fleet's counts by state and bad debt per currency.
Each fleet query also refreshes the health gauges served on `/metrics`."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends

from adapters.bootstrap import Container
from adapters.http.auth import Allow, Principal
from adapters.http.common import MinVersion, container_of, wait_for
from adapters.metrics import record_health
from commands.errors import AccountNotFound
from ledger.meta import ActorKind
from queries.health import AccountHealth, FleetHealth, fleet_health, get_health

Deps = Annotated[Container, Depends(container_of)]
ServiceReader = Annotated[Principal, Depends(Allow([ActorKind.SERVICE], ["accounts:read"]))]
SupportReader = Annotated[Principal, Depends(Allow([ActorKind.SUPPORT], ["accounts:read"]))]

service = APIRouter(prefix="/internal", tags=["service (iAPI)"])
support = APIRouter(prefix="/support", tags=["support (NinjaPanel)"])
router = APIRouter()


def _account(c: Container, account_id: UUID, min_version: int | None) -> AccountHealth:
    with c.connection() as conn:
        wait_for(conn, "health", account_id, min_version)
        found = get_health(conn, account_id, c.deps.clock.now())
    if found is None:
        raise AccountNotFound()
    return found


def _fleet(c: Container) -> FleetHealth:
    with c.connection() as conn:
        fleet = fleet_health(conn, c.deps.clock.now())
    record_health({s.value: n for s, n in fleet.by_state.items()}, fleet.bad_debt_by_currency)
    return fleet


@service.get("/accounts/{account_id}/health")
def service_account(
    account_id: UUID, who: ServiceReader, c: Deps, min_version: MinVersion = None
) -> AccountHealth:
    return _account(c, account_id, min_version)


@service.get("/health/fleet")
def service_fleet(who: ServiceReader, c: Deps) -> FleetHealth:
    return _fleet(c)


@support.get("/accounts/{account_id}/health")
def support_account(
    account_id: UUID, who: SupportReader, c: Deps, min_version: MinVersion = None
) -> AccountHealth:
    return _account(c, account_id, min_version)


@support.get("/health")
def support_fleet(who: SupportReader, c: Deps) -> FleetHealth:
    return _fleet(c)


router.include_router(service)
router.include_router(support)
