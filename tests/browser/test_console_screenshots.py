"""`ledger console screenshots` takes its pictures with `shoot`: here on the test's live app
(one row of the table, no demo to build: the command's own run takes about a minute and is
not in CI), each a valid PNG of the viewport's size showing the page signed in."""

from __future__ import annotations

import struct
from pathlib import Path

from playwright.sync_api import Browser

from adapters.cli.screenshots import SHOTS, Shot, shoot, story_accounts
from adapters.demo import Story
from tests.browser.conftest import LiveConsole

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert data.endswith(b"IEND\xaeB`\x82")
    return width, height


def test_shoot_saves_a_png_of_each_page_signed_in(
    browser: Browser, live: LiveConsole, tmp_path: Path
) -> None:
    fleet = next(s for s in SHOTS if s.name == "fleet")
    viewport = Shot("fleet-top", "/console/fleet", "the fleet's first screen")
    saved = shoot(browser, live.base_url, live.link(), [fleet, viewport], tmp_path, {}, (800, 600))
    assert saved == [tmp_path / "fleet.png", tmp_path / "fleet-top.png"]
    whole_width, whole_height = png_size(saved[0])
    assert whole_width == 800
    assert whole_height > 600  # the whole page
    assert png_size(saved[1]) == (800, 600)
    assert saved[1].stat().st_size > 10_000  # a page, not a blank (a blank PNG is tiny)


def test_every_shot_names_a_story_the_demo_tells() -> None:
    accounts = story_accounts()
    assert set(accounts) == {s.value for s in Story}
    for shot in SHOTS:
        front = "/billing/" if shot.billing_of else "/console/"
        assert shot.path.format(**accounts).startswith(front), shot.name
        assert shot.billing_of is None or shot.billing_of in accounts, shot.name
