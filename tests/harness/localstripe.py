"""A private localstripe (a fake Stripe API server, GPL-3.0, test-only) on a free port.

localstripe binds every interface (it has no host option) and pickles its whole state to the
fixed file /tmp/localstripe.pickle after every write, reloading it at start unless told
`--from-scratch`: the harness always passes it, so a run never sees another run's objects.
Between tests, `reset()` empties the store through `DELETE /_config/data`.
"""

from __future__ import annotations

import shutil
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from tests.harness.ports import LOOPBACK, free_port
from tests.harness.process import ServiceStartError, spawn, start_failure, stop, wait_until

START_TIMEOUT_S = 30
PROBE_TIMEOUT_S = 1.0
# localstripe accepts any key that starts with sk_ and has more than 5 characters.
TEST_API_KEY = "sk_test_localstripe_harness"


@dataclass(frozen=True)
class LocalStripeServer:
    host: str
    port: int
    started_in_s: float
    api_key: str = TEST_API_KEY

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def reset(self) -> None:
        """Forget every object (customers, payment methods, intents, refunds...)."""
        request = urllib.request.Request(  # noqa: S310 - our own loopback server
            f"{self.url}/_config/data", method="DELETE"
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            if response.status != 200:
                raise RuntimeError(f"localstripe reset answered {response.status}")


def localstripe_binary() -> str:
    binary = shutil.which("localstripe")
    if binary is None:
        raise ServiceStartError("localstripe is not on PATH: run `uv sync` (dev dependencies)")
    return binary


def _answers(port: int) -> bool:
    request = urllib.request.Request(
        f"http://{LOOPBACK}:{port}/v1/customers?limit=1",
        headers={"Authorization": f"Bearer {TEST_API_KEY}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT_S) as response:  # noqa: S310
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def running_localstripe(work_dir: Path) -> Iterator[LocalStripeServer]:
    """Start `localstripe --port <free port> --from-scratch`; stop it on exit. Raises
    ServiceStartError (with the tail of its log) when it does not answer in time."""
    began = time.monotonic()
    work_dir = work_dir.resolve()
    work_dir.mkdir(parents=True, exist_ok=True)
    log = work_dir / "localstripe.log"
    port = free_port()
    argv = [localstripe_binary(), "--port", str(port), "--from-scratch"]
    proc = spawn(argv, log, cwd=work_dir)
    try:
        failure = wait_until(
            lambda: _answers(port),
            timeout_s=START_TIMEOUT_S,
            alive=lambda: proc.poll() is None,
        )
        if failure is not None:
            raise start_failure("localstripe", failure, log)
        yield replace(LocalStripeServer(LOOPBACK, port, 0.0), started_in_s=time.monotonic() - began)
    finally:
        stop(proc)
