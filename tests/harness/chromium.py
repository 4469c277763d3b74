"""Debian's chromium for the browser tests, driven by Playwright: launched by its path
(Playwright's own browser download is not reachable from these machines), headless."""

from __future__ import annotations

import shutil

from tests.harness.process import ServiceStartError

CHROMIUM_ARGS = (
    "--no-sandbox",  # the tests run as root, where chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
)


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found is not None:
            return found
    raise ServiceStartError("chromium is not on PATH: run scripts/setup-services")
