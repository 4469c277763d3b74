"""The route label of a request, never its raw path (ids stay out of metrics and logs): the
route template (`/v1/accounts/{account_id}`), a mounted static directory's mount path
(`/pay/static`), or `none` when no route matches (scans cannot grow the label set). The
HTTP metrics and the access log both label requests with it."""

from __future__ import annotations

from prometheus_fastapi_instrumentator.routing import get_route_name
from starlette.requests import HTTPConnection
from starlette.routing import Mount

UNMATCHED = "none"


def route_of(request: HTTPConnection) -> str:
    name = get_route_name(request, should_include_root_path=False)
    if name is not None:
        return name
    mounts = (r for r in request.app.routes if isinstance(r, Mount))
    path = request.url.path
    return next((m.path for m in mounts if path.startswith(f"{m.path}/")), UNMATCHED)
