"""`ledger contract`: the event contract of `billing.events` (docs/contract/), generated from
the code. `generate` writes it (refusing a breaking change to a published schema); `check`
exits 1 when the files differ from the code, as the tests do."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from adapters.contract.files import BreakingChange, breaking, differences, write_contract

app = typer.Typer(no_args_is_help=True, help="The event contract (AsyncAPI, JSON Schemas).")
console = Console()
CHECKOUT_CONTRACT = Path(__file__).resolve().parents[2] / "docs" / "contract"
Directory = Annotated[Path, typer.Option(help="Where the contract lives")]


@app.command("generate")
def generate(directory: Directory = CHECKOUT_CONTRACT) -> None:
    """Write the AsyncAPI document and the JSON Schemas the code describes."""
    try:
        written = write_contract(directory)
    except BreakingChange as change:
        for problem in change.problems:
            console.print(f"[red]breaking[/red] {problem}", soft_wrap=True)
        console.print(
            "A published version cannot change this way: give the event a new class_version"
            " (with its upcaster) and keep the old data in adapters/contract/history.py"
            " (docs/contract/COMPATIBILITY.md)."
        )
        raise typer.Exit(code=1) from None
    for name in written:
        console.print(f"wrote {directory / name}")
    console.print(f"contract up to date ({len(written)} file(s) written)")


@app.command("check")
def check(directory: Directory = CHECKOUT_CONTRACT) -> None:
    """Exit 1 when the committed contract differs from the code or a change breaks it."""
    problems = breaking(directory) + differences(directory)
    for problem in problems:
        console.print(problem, soft_wrap=True)
    if problems:
        raise typer.Exit(code=1)
    console.print("contract matches the code")
