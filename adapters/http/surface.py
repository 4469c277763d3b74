"""What an HTTP surface is, and how its routes are built.

A surface (`HttpSurface`) is a prefix, the ledger surface its events record, the principal
kinds it admits, whether a caller reaches only its own account, whether its writes need a
reason, and the features it offers. A feature (`Feature`) is a group of routes written once
(`Route`): each route builds its handler for a surface, so a handler body exists once
however many surfaces offer it. adapters/http/surfaces.py is the table of surfaces x
features; `router` turns one surface into its FastAPI router.

Every route takes one dependency, `HttpSurface.caller(scope)`, which yields the `Call`: the
principal the surface admits with that scope (acting on its own account only, where the
surface says so), the container, and the request's correlation id and idempotency key, from
which `Call.ctx` makes the CommandContext.
"""

# No postponed annotations: the handlers FastAPI reads are made in closures (their
# annotations name local values).
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from adapters.bootstrap import Container
from adapters.http.auth import Allow, Principal
from adapters.http.common import (
    ContainerDep,
    CorrelationId,
    IdempotencyKey,
    command_id_for,
    request_fingerprint,
)
from commands.base import Deps as CommandDeps
from commands.errors import AccountNotFound
from commands.models import CommandContext
from ledger.meta import ActorKind, Surface


@dataclass(frozen=True)
class Call:
    """The caller acting on an account (its own, where the surface says so), as one route
    request: what a handler needs besides its own path, query and body."""

    who: Principal
    container: Container
    surface: "HttpSurface"
    correlation_id: UUID
    request: Request
    key: str | None = None

    @property
    def deps(self) -> CommandDeps:
        return self.container.deps

    def ctx(self, body: BaseModel | None = None) -> CommandContext:
        """The command context: the body's `reason` (support's why) and, for a keyed
        request, the command id and the request's fingerprint (method, path, body)."""
        command_id = command_id_for(self.who, self.key)
        return CommandContext(
            actor_id=self.who.id,
            actor_kind=self.who.kind,
            surface=self.surface.surface,
            reason=getattr(body, "reason", None),
            correlation_id=self.correlation_id,
            command_id=command_id,
            fingerprint=request_fingerprint(self.request, body) if command_id is not None else None,
        )


@dataclass(frozen=True)
class Route:
    """One route, written once: `build` makes its handler for a surface. `path` is under
    the surface's prefix; `name` (the operation id's stem) may name the surface as
    `{surface}`, and `names` overrides it per surface name."""

    method: str
    path: str
    build: Callable[["HttpSurface"], Callable[..., Any]]
    name: str
    summary: str
    description: str
    status_code: int | None = None
    responses: Mapping[int | str, dict[str, Any]] | None = None
    response_class: type[Any] | None = None
    names: Mapping[str, str] = field(default_factory=dict)

    def operation_name(self, surface: "HttpSurface") -> str:
        return self.names.get(surface.name) or self.name.format(surface=surface.name)


@dataclass(frozen=True)
class Feature:
    """A group of routes a surface offers or not. `tag`: the OpenAPI tag, the surface's own
    when None, else `"<tag> (<surface>)"`."""

    routes: tuple[Route, ...]
    tag: str | None = None


@dataclass(frozen=True, eq=False)
class HttpSurface:
    name: str  # customer, service, support: in operation ids
    prefix: str
    surface: Surface
    kinds: frozenset[ActorKind]
    tag: str
    doc: str  # what the OpenAPI document says of every operation of the surface
    own_account_only: bool
    reason_required: bool
    features: tuple[Feature, ...]

    @property
    def customer_present(self) -> bool:
        """A customer's request is, by definition, made with the customer present."""
        return self.kinds == frozenset({ActorKind.CUSTOMER})

    def caller(self, scope: str, *, keyed: bool = False) -> Callable[..., Call]:
        """The route's dependency: the principal of one of the surface's kinds with `scope`.
        `keyed`: the route takes an Idempotency-Key."""
        principal = self._principal(Allow(self.kinds, [scope]))

        def call(
            who: Annotated[Principal, Depends(principal)],
            container: ContainerDep,
            cid: CorrelationId,
            request: Request,
        ) -> Call:
            return Call(who, container, self, cid, request)

        def keyed_call(
            who: Annotated[Principal, Depends(principal)],
            container: ContainerDep,
            cid: CorrelationId,
            request: Request,
            key: IdempotencyKey = None,
        ) -> Call:
            return Call(who, container, self, cid, request, key)

        chosen = keyed_call if keyed else call
        setattr(chosen, _SCOPE, scope)  # read back by `scope_of`
        return chosen

    def _principal(self, allow: Allow) -> Callable[..., Principal]:
        """On an own-account surface, the path's `account_id` must be the principal's own
        account: any other answers 404, exactly as one that does not exist, and first:
        FastAPI runs dependencies before it validates the body, the query or the headers,
        and the route itself runs after (so no configuration check, no command and no
        processor call can answer before it). Only a body that is not JSON at all is
        refused (422) earlier."""
        if not self.own_account_only:
            return allow

        def owner(account_id: UUID, who: Annotated[Principal, Depends(allow)]) -> Principal:
            if who.account_id != account_id:
                raise AccountNotFound()
            return who

        return owner


_SCOPE = "ledger_scope"


def scope_of(handler: Callable[..., Any]) -> str:
    """The scope a built route handler's caller needs (its `HttpSurface.caller`): another
    edge that calls the handler directly (the console) refuses a principal without it, as
    the route does."""
    for parameter in inspect.signature(handler).parameters.values():
        # `call: Call = Depends(caller)` or `call: Annotated[Call, Depends(caller)]`
        for marker in (parameter.default, *getattr(parameter.annotation, "__metadata__", ())):
            scope = getattr(getattr(marker, "dependency", None), _SCOPE, None)
            if isinstance(scope, str):
                return scope
    raise ValueError(f"{handler.__name__} takes no caller")


def handler_of(surface: HttpSurface, operation: str) -> Callable[..., Any]:
    """The handler the surface's route `operation` (its operation name) runs: another edge
    acting through the surface (the console, the billing pages) calls this very handler,
    with a `Call` it builds for the principal it acts as."""
    for feature in surface.features:
        for route in feature.routes:
            if route.operation_name(surface) == operation:
                return route.build(surface)
    raise LookupError(f"the {surface.name} surface has no route {operation}")


def router(surface: HttpSurface) -> APIRouter:
    """The surface's routes: every route of every feature it offers."""
    built = APIRouter(prefix=surface.prefix)
    for feature in surface.features:
        tag = surface.tag if feature.tag is None else f"{feature.tag} ({surface.surface.value})"
        for route in feature.routes:
            if surface.own_account_only and "{account_id}" not in route.path:
                # the ownership check reads the path's account id: without one, FastAPI
                # would take `account_id` from the query, which the caller chooses
                raise ValueError(f"{surface.name} reaches own accounts only: {route.path}")
            extra: dict[str, Any] = {}
            if route.status_code is not None:
                extra["status_code"] = route.status_code
            if route.response_class is not None:
                extra["response_class"] = route.response_class
            built.add_api_route(
                route.path,
                route.build(surface),
                methods=[route.method],
                name=route.operation_name(surface),
                tags=[tag],
                responses=dict(route.responses) if route.responses else None,
                **extra,
            )
    return built


def documented(features: tuple[Feature, ...]) -> dict[tuple[str, str], tuple[str, str]]:
    """(method, path under the prefix) -> (summary, description) of these features' routes."""
    table: dict[tuple[str, str], tuple[str, str]] = {}
    for feature in features:
        for route in feature.routes:
            entry = (route.summary, route.description)
            if table.setdefault((route.method, route.path), entry) != entry:
                raise ValueError(f"{route.method} {route.path} is documented twice, differently")
    return table
