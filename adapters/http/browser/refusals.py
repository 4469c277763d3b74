"""A request a browser front end refuses, answered with a page that says why (HTML, never
problem+json: a person reads it). Each front end subclasses `Refused` and installs its own
page for it."""

from __future__ import annotations

from adapters.http.browser.sessions import BrowserSession


class Refused(Exception):
    def __init__(
        self,
        status: int,
        heading: str,
        text: str,
        hint: str | None = None,
        session: BrowserSession | None = None,  # signed in: the page still says who
    ) -> None:
        super().__init__(heading)
        self.session = session
        self.status = status
        self.heading = heading
        self.text = text
        self.hint = hint
