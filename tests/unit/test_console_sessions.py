"""The console's browser sessions over the in-process store: a session lives until its idle
time passes without a request or its absolute time after sign-in, whichever comes first,
or until logout; each has its own CSRF token."""

from __future__ import annotations

from adapters.http.console.sessions import ConsoleSessions
from adapters.redis.sessions import MemorySessionStore


class Clock:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def sessions(clock: Clock, idle_s: int = 60, absolute_s: int = 300) -> ConsoleSessions:
    return ConsoleSessions(MemorySessionStore(), idle_s, absolute_s, now=clock)


def test_a_used_session_lives_on_until_its_absolute_time() -> None:
    clock = Clock()
    store = sessions(clock)
    started = store.start("agent")
    for _ in range(5):
        clock.t += 50  # always within the idle time
        found = store.find(started.session_id)
        assert found is not None
        assert found.principal_id == "agent"
    clock.t += 50  # 300 s after sign-in
    assert store.find(started.session_id) is None


def test_an_unused_session_ends_after_its_idle_time() -> None:
    clock = Clock()
    store = sessions(clock)
    started = store.start("agent")
    clock.t += 59
    assert store.find(started.session_id) is not None
    clock.t += 60
    assert store.find(started.session_id) is None
    clock.t -= 60  # forgotten, not just hidden: turning the clock back does not revive it
    assert store.find(started.session_id) is None


def test_logout_ends_a_session_and_only_that_one() -> None:
    clock = Clock()
    store = sessions(clock)
    first, second = store.start("agent"), store.start("agent")
    store.end(first.session_id)
    assert store.find(first.session_id) is None
    assert store.find(second.session_id) is not None


def test_each_session_has_its_own_csrf_token() -> None:
    store = sessions(Clock())
    first, second = store.start("agent"), store.start("agent")
    assert first.csrf_token != second.csrf_token
    assert first.csrf_matches(first.csrf_token)
    assert not first.csrf_matches(second.csrf_token)
    assert not first.csrf_matches(None)
    assert not first.csrf_matches("")
