"""Sign-in links to the support console for an SSO front door (scope `console:links`): the
front door signs its support agent in its own way, then asks the ledger for a link."""

from collections.abc import Callable

from fastapi import Depends
from pydantic import BaseModel, ConfigDict, Field

from adapters.http.console.links import SignInLink, make_link
from adapters.http.surface import Call, Feature, HttpSurface, Route


class LinkBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    principal_id: str = Field(min_length=1, max_length=200)


def _link(s: HttpSurface) -> Callable[..., SignInLink]:
    caller = s.caller("console:links")

    def make(body: LinkBody, call: Call = Depends(caller)) -> SignInLink:
        keys = call.request.app.state.api_keys
        return make_link(call.container, keys, body.principal_id, made_by=call.who.id)

    return make


LINKS = Feature(
    (
        Route(
            "POST",
            "/console/links",
            _link,
            "{surface}_console_link",
            "Make a console sign-in link",
            "A short-lived, single-use URL that signs one support principal in to the "
            "support console (LEDGER_CONSOLE_LINK_TTL_S, 600 s by default). 422 "
            "`not_a_support_principal` for a principal with no active support key.",
            status_code=201,
        ),
    )
)
