"""The support console's browser sessions (adapters/http/browser/sessions.py): ended by
logout, by an idle time (LEDGER_CONSOLE_IDLE_S without a request) and by an absolute time
after sign-in (LEDGER_CONSOLE_ABSOLUTE_S), whichever comes first; in Redis under their own
key prefix when LEDGER_REDIS_URL is set. A console session knows its support principal
(no account)."""

from __future__ import annotations

from adapters.http.browser.sessions import BrowserSession, BrowserSessions
from adapters.settings import Settings

PREFIX = "ledger:console-session:"
ConsoleSession = BrowserSession


class ConsoleSessions(BrowserSessions):
    @classmethod
    def from_settings(cls, settings: Settings) -> ConsoleSessions:
        return cls.kept(
            settings.redis_url, PREFIX, settings.console_idle_s, settings.console_absolute_s
        )
