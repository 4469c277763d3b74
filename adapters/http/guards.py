"""Checks every request passes before any route sees it.

`RefuseControlCharacters`: a NUL or another control character (Unicode Cc: U+0000-U+001F,
U+007F-U+009F) in the decoded path or in a decoded query parameter's name or value answers
422 `invalid_request`. No id, filter or name of ours may hold one, PostgreSQL refuses NUL in
text (a 500 deep in a query otherwise), and a route typed `str` would pass it on. Body fields
are checked by their own types (commands/models.py).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from adapters.http.problems import problem

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class RefuseControlCharacters:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (where := _control_character_in(scope)) is not None:
            response = problem(
                422,
                "invalid_request",
                f"control characters are not allowed in the {where}",
                errors=[{"loc": [where], "msg": "control character"}],
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def _control_character_in(scope: Scope) -> str | None:
    if CONTROL.search(scope["path"]):
        return "path"
    query = scope.get("query_string", b"").decode("latin-1")
    for name, value in parse_qsl(query, keep_blank_values=True):
        if CONTROL.search(name) or CONTROL.search(value):
            return "query"
    return None
