"""Account health (scope `accounts:read`): one account's health, and the fleet's counts by
state and bad debt per currency."""

from collections.abc import Callable
from uuid import UUID

from fastapi import Depends

from adapters.http.common import MinVersion, wait_for
from adapters.http.surface import Call, Feature, HttpSurface, Route
from commands.errors import AccountNotFound
from queries.health import AccountHealth, FleetHealth, fleet_health, get_health


def _account(s: HttpSurface) -> Callable[..., AccountHealth]:
    caller = s.caller("accounts:read")

    def account(
        account_id: UUID,
        call: Call = Depends(caller),
        min_version: MinVersion = None,
    ) -> AccountHealth:
        c = call.container
        with c.connection() as conn:
            wait_for(conn, "health", account_id, min_version)
            found = get_health(conn, account_id, c.deps.clock.now())
        if found is None:
            raise AccountNotFound()
        return found

    return account


def _fleet(s: HttpSurface) -> Callable[..., FleetHealth]:
    caller = s.caller("accounts:read")

    def fleet(call: Call = Depends(caller)) -> FleetHealth:
        c = call.container
        with c.connection() as conn:
            return fleet_health(conn, c.deps.clock.now())

    return fleet


_FLEET = ("Fleet health", "Accounts by health state and bad debt per currency.")
ACCOUNT = Feature(
    (
        Route(
            "GET",
            "/accounts/{account_id}/health",
            _account,
            "{surface}_account",
            "Account health",
            "Collection state, stuck attempts, bad debt and the action required, if any.",
        ),
    )
)
# The same fleet health at two paths: the iAPI's, and the support panel's shorter one.
FLEET = Feature((Route("GET", "/health/fleet", _fleet, "{surface}_fleet", *_FLEET),))
FLEET_AT_HEALTH = Feature((Route("GET", "/health", _fleet, "{surface}_fleet", *_FLEET),))
