"""The HTTP surfaces and the features each offers: the one place where surfaces x features
are wired (adapters/http/surface.py says what a surface and a feature are). Adding a surface
is one entry of SURFACES; offering a feature on a surface is one line of its `features`."""

from adapters.http.routers import (
    accounts,
    audit,
    billing,
    clocks,
    console_links,
    forget,
    health,
    in_flight,
    invoices,
    payment_flow,
    plan_preview,
    portal_sessions,
    recompute,
    reconciliation,
)
from adapters.http.surface import HttpSurface
from ledger.meta import ActorKind, Surface

CUSTOMER = HttpSurface(
    name="customer",
    prefix="/v1",
    surface=Surface.DASHBOARD,
    kinds=frozenset({ActorKind.CUSTOMER}),
    tag="customer (Dashboard)",
    doc="Dashboard surface: a customer key (its own account only; another account's path "
    "answers 404).",
    own_account_only=True,
    reason_required=False,
    features=(
        accounts.ONE,
        billing.CORE,
        plan_preview.PREVIEW,
        invoices.READS,
        payment_flow.SESSIONS,
    ),
)
SERVICE = HttpSurface(
    name="service",
    prefix="/internal",
    surface=Surface.IAPI,
    kinds=frozenset({ActorKind.SERVICE}),
    tag="service (iAPI)",
    doc="iAPI surface: a service key.",
    own_account_only=False,
    reason_required=False,
    features=(
        accounts.OPEN,
        accounts.LIST,
        accounts.ONE,
        audit.HISTORY,
        health.ACCOUNT,
        health.FLEET,
        reconciliation.LAST,
        billing.CORE,
        plan_preview.PREVIEW,
        billing.OPERATIONS,
        billing.RUN,
        invoices.READS,
        payment_flow.SESSIONS,
        payment_flow.VAULTING,
        payment_flow.SYNC,
        console_links.LINKS,
        portal_sessions.SESSIONS,
    ),
)
SUPPORT = HttpSurface(
    name="support",
    prefix="/support",
    surface=Surface.NINJAPANEL,
    kinds=frozenset({ActorKind.SUPPORT}),
    tag="support (NinjaPanel)",
    doc="NinjaPanel surface: a support key; every write needs a `reason`, recorded on its events.",
    own_account_only=False,
    reason_required=True,
    features=(
        accounts.OPEN,
        accounts.LIST_BY_STATUS,
        accounts.ONE,
        recompute.RECOMPUTE,
        forget.FORGET,
        audit.HISTORY,
        audit.AS_OF,
        health.ACCOUNT,
        health.FLEET_AT_HEALTH,
        reconciliation.LAST,
        reconciliation.CHECK_AND_REPAIR,
        billing.CORE,
        plan_preview.PREVIEW,
        billing.OPERATIONS,
        billing.MONEY,
        in_flight.RESOLVE,
        clocks.TEST_CLOCKS,
        invoices.READS,
        payment_flow.SYNC,
    ),
)
SURFACES = (CUSTOMER, SERVICE, SUPPORT)
