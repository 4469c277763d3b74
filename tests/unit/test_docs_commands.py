"""Every `ledger ...` command line in README.md and docs/*.md names a real command: each
subcommand on its path exists in the typer app, and each `--option` it shows is one that
command takes. Keeps the runbooks from drifting away from the CLI."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer

from adapters.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
INLINE = re.compile(r"`(?:uv run )?(ledger(?: [^`]*)?)`")
SHELL_FENCE = re.compile(r"^\s*```\s*(sh|bash|shell|console)\s*$")
SHELL_LINE = re.compile(r"^\s*(?:\$ )?(?:uv run )?(ledger(?: .*)?)$")
OPTION = re.compile(r"--[a-z][a-z0-9-]*")
ELLIPSIS = {"...", "…"}


def command_lines() -> list[tuple[str, str]]:
    """(where, command line) for every inline `ledger ...` span and every `ledger` line of
    a shell code block."""
    found = []
    for path in DOCS:
        fence: str | None = None
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            where = f"{path.relative_to(ROOT)}:{number}"
            if line.strip().startswith("```"):
                fence = None if fence is not None else ("sh" if SHELL_FENCE.match(line) else "")
                continue
            if fence == "sh" and (shell := SHELL_LINE.match(line)):
                found.append((where, shell.group(1)))
            elif fence is None:
                found.extend((where, span) for span in INLINE.findall(line))
    return found


def problems(line: str) -> list[str]:
    """What in this command line the CLI does not have."""
    words = line.replace("\\|", "|").split()[1:]
    return _walk(typer.main.get_command(app), ["ledger"], words)


def _walk(node: Any, path: list[str], words: list[str]) -> list[str]:
    """`node` is a typer (click) command; a group has `commands`."""
    if not isinstance(getattr(node, "commands", None), dict):
        return _unknown_options(node, path, words)
    if not words or words[0] in ELLIPSIS or words[0] == "--help":
        return []  # the group itself is meant
    issues = []
    for name in words[0].split("|"):
        sub = node.commands.get(name)
        if sub is None:
            issues.append(f"`{' '.join(path)}` has no subcommand {name!r}")
        else:
            issues.extend(_walk(sub, [*path, name], words[1:]))
    return issues


def _unknown_options(command: Any, path: list[str], words: list[str]) -> list[str]:
    known = {o for p in command.params for o in (*p.opts, *p.secondary_opts)}
    shown = {m.group(0) for w in words if (m := OPTION.match(w.lstrip("[(|")))}
    return [f"`{' '.join(path)}` has no option {o}" for o in sorted(shown - known)]


def test_the_docs_show_ledger_command_lines() -> None:
    lines = [line for _, line in command_lines()]
    assert len(lines) > 30
    assert any(line.startswith("ledger reconcile run") for line in lines)


@pytest.mark.parametrize(("where", "line"), command_lines())
def test_every_documented_command_line_exists(where: str, line: str) -> None:
    assert problems(line) == [], f"{where}: {line}"


def test_a_stale_command_line_is_caught() -> None:
    assert problems("ledger reconcile ACCOUNT --all") == [
        "`ledger reconcile` has no subcommand 'ACCOUNT'"
    ]
    assert problems("ledger reconcile run ID --everything") == [
        "`ledger reconcile run` has no option --everything"
    ]
    assert problems("ledger billing void\\|refund ... --reason x") == []
