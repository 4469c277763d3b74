"""The fleet page (`/console/fleet`): accounts counted by health state (each count a link to
the accounts in that state, in keyset pages), the stuck accounts with their reasons, bad
debt per currency, where each projection stands (position, store head, lag, rebuilds) and
the events a projection could not apply. Read-only, from queries/health.py and
queries/projections.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from adapters.bootstrap import Container
from adapters.http.common import ContainerDep
from adapters.http.console.access import SignedIn
from adapters.http.console.account import REASONS
from adapters.http.console.pages import render
from adapters.readiness import statuses
from queries.health import (
    FleetHealth,
    HealthState,
    HealthStatePage,
    accounts_in_state,
    fleet_health,
)
from queries.projections import (
    PoisonedEvent,
    ProjectionStatus,
    poisoned_events,
)

router = APIRouter(include_in_schema=False)  # included by routes.py under /console
ACCOUNTS_PER_PAGE = 20


@dataclass(frozen=True)
class FleetPage:
    health: FleetHealth
    stuck: HealthStatePage
    projections: list[ProjectionStatus]
    poisoned: list[PoisonedEvent]


def reasons_in_words(reasons: tuple[str, ...]) -> list[str]:
    return [REASONS.get(r, r) for r in reasons]


def waited(seconds: float) -> str:
    """A lag as a person reads it: "45 s", "1 min 30 s", "3 h 10 min", "43 d 3 h"."""
    whole = int(seconds)
    days, rest = divmod(whole, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")]
    shown = [f"{n} {unit}" for n, unit in parts if n][:2]
    return " ".join(shown) or "0 s"


def _projections(container: Container, now: datetime) -> list[ProjectionStatus]:
    return statuses(container, now)


def fleet_page(container: Container) -> FleetPage:
    now = container.deps.clock.now()
    with container.connection() as conn:
        health = fleet_health(conn, now)
        stuck = accounts_in_state(conn, HealthState.STUCK, now, limit=ACCOUNTS_PER_PAGE)
        poisoned = poisoned_events(conn)
    return FleetPage(health, stuck, _projections(container, now), poisoned)


@router.get("/fleet", name="console_fleet")
def fleet(request: Request, session: SignedIn, container: ContainerDep) -> HTMLResponse:
    return render(
        request,
        "fleet.html",
        session,
        page=fleet_page(container),
        states=list(HealthState),
        in_words=reasons_in_words,
        waited=waited,
    )


@router.get("/fleet/accounts", name="console_fleet_accounts")
def in_state(
    request: Request,
    session: SignedIn,
    container: ContainerDep,
    state: HealthState,
    after: UUID | None = None,
) -> HTMLResponse:
    """The accounts in one health state with their reasons, a keyset page after `after`."""
    now = container.deps.clock.now()
    with container.connection() as conn:
        found = accounts_in_state(conn, state, now, after, ACCOUNTS_PER_PAGE)
    return render(
        request, "fleet_accounts.html", session, page=found, after=after, in_words=reasons_in_words
    )
