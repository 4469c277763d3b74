"""A long seeded random run: accounts driven by every kind of command (the rules of the
hypothesis state machine, tests/model) with every invariant checked.

    python -m bench.soak --ops 1000000 --seed 7 --workers 2

The run is a sequence of accounts. Account I draws everything (how long it lives, its
operations, the processor's answers, its ids) from generators seeded with (seed, I), so
the same seed makes the same run whatever the number of workers, and one account can be
run alone: a failure prints `--seed S --account I --ops J`, which reruns account I up to
its failing operation J. Each account opens in a fresh in-memory store, lives a random
number of operations, is wound down (plans cancelled, invoices voided, bad debt written
off, credit revoked) and closed; the last one is cut short where the run reaches --ops.

After every operation: the journal balances, receivable equals what is owed, no invoice
is paid twice, bad debt iff something is uncollectible, and the read models folded event
by event agree with the aggregate. Every --deep-every operations of an account and after
its last one: replay from the events and from a snapshot equal the live state, and the
read models equal a rebuild from the whole stream (these cost O(events) each time)."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

from adapters.logging import configure_logging
from bench.machine import describe_host
from tests.model import invariants
from tests.model.account import RULES, AccountModel, RandomDraws
from tests.model.invariants import ReadModelFolds

# How often each rule is drawn (the others weigh 1): time and money move most.
WEIGHTS = {"time_passes_and_billing_runs": 4, "subscribe": 2, "add_method": 2, "close": 0.25}
OPEN, WIND_DOWN = "open_account", "wind_down_and_close"
KINDS = list(RULES)
KIND_WEIGHTS = [WEIGHTS.get(k, 1) for k in KINDS]


@dataclass
class Tally:
    ops: int = 0
    accounts: int = 0  # lived their life: wound down and closed, or cut short by the end
    events: int = 0  # of those accounts
    events_by_type: Counter[str] = field(default_factory=Counter)
    ops_by_kind: Counter[str] = field(default_factory=Counter)
    commands: Counter[str] = field(default_factory=Counter)
    checks: Counter[str] = field(default_factory=Counter)
    stopped_early: bool = False

    def add(self, other: Tally) -> None:
        self.ops += other.ops
        self.accounts += other.accounts
        self.events += other.events
        for mine, theirs in self._counters(other):
            mine.update(theirs)
        self.stopped_early = self.stopped_early or other.stopped_early

    def _counters(self, other: Tally) -> Iterator[tuple[Counter[str], Counter[str]]]:
        yield self.events_by_type, other.events_by_type
        yield self.ops_by_kind, other.ops_by_kind
        yield self.commands, other.commands
        yield self.checks, other.checks


@dataclass(frozen=True)
class Settings:
    seed: int
    lifetime: tuple[int, int] = (20, 200)
    deep_every: int = 10
    deadline: float = float("inf")  # time.monotonic() after which accounts stop early


@dataclass(frozen=True)
class AccountRun:
    """Account `index` of the run, cut to its first `ops` operations (None: its whole
    life, opening and wind-down included)."""

    index: int
    ops: int | None = None


class SoakFailure(Exception):
    """Account `account` broke an invariant (or raised) at its operation `op`."""

    def __init__(self, seed: int, account: int, op: int, kind: str, cause: str = "") -> None:
        super().__init__(seed, account, op, kind, cause)  # args: it pickles across workers
        self.seed, self.account, self.op, self.kind = seed, account, op, kind
        self.cause = cause  # the formatted traceback

    def __str__(self) -> str:
        return (
            f"seed {self.seed}: account {self.account}, operation {self.op} ({self.kind})"
            " broke an invariant or raised; reproduce with: python -m bench.soak"
            f" --seed {self.seed} --account {self.account} --ops {self.op + 1}"
        )


def operations_of(seed: int, index: int, lifetime: tuple[int, int]) -> list[str]:
    """Account `index`'s operations: opening, its rules, winding down and closing."""
    rng = random.Random(f"{seed}:{index}:plan")
    rules = rng.choices(KINDS, KIND_WEIGHTS, k=rng.randint(*lifetime))
    return [OPEN, *rules, WIND_DOWN]


def plan(settings: Settings, target: int) -> Iterator[AccountRun]:
    """The accounts of a run of `target` operations, the last one cut short."""
    index, left = 0, target
    while left > 0:
        length = len(operations_of(settings.seed, index, settings.lifetime))
        yield AccountRun(index, left if left < length else None)
        index, left = index + 1, left - length


class AccountSoak:
    """One account's life with every check; its Tally, or SoakFailure."""

    def __init__(self, settings: Settings, run: AccountRun) -> None:
        self.settings, self.run = settings, run
        ops = operations_of(settings.seed, run.index, settings.lifetime)
        self.ops = ops[: run.ops] if run.ops is not None else ops
        self.rng = random.Random(f"{settings.seed}:{run.index}:draws")
        ids = random.Random(f"{settings.seed}:{run.index}:ids")
        self.new_id = lambda: UUID(int=ids.getrandbits(128), version=4)
        self.tally = Tally()

    def __call__(self) -> Tally:
        model: AccountModel = self._operate(0, OPEN, lambda: AccountModel(self.new_id))
        folds = ReadModelFolds(model)
        self._check(model, folds, 0)
        for op, kind in enumerate(self.ops[1:], start=1):
            if time.monotonic() > self.settings.deadline:
                self.tally.stopped_early = True
                break
            rule = getattr(model, kind)
            self._operate(op, kind, lambda: rule(RandomDraws(self.rng)))  # noqa: B023
            self._check(model, folds, op)
        self.tally.accounts = 1
        self.tally.commands.update(model.commands)
        self.tally.events = len(folds.envelopes)
        self.tally.events_by_type.update(e.event_type for e in folds.envelopes)
        return self.tally

    def _operate(self, op: int, kind: str, action: Callable[[], Any]) -> Any:
        try:
            result = action()
        except Exception as error:
            raise self._failure(op, kind) from error
        self.tally.ops += 1
        self.tally.ops_by_kind[kind] += 1
        return result

    def _check(self, model: AccountModel, folds: ReadModelFolds, op: int) -> None:
        deep = op % self.settings.deep_every == 0 or op == len(self.ops) - 1
        try:
            for check in invariants.INVARIANTS + (invariants.DEEP_INVARIANTS if deep else ()):
                check(model)
                self.tally.checks[check.__name__] += 1
            for fold_check in invariants.FOLD_CHECKS + (
                invariants.DEEP_FOLD_CHECKS if deep else ()
            ):
                fold_check(model, folds)
                self.tally.checks[fold_check.__name__] += 1
        except Exception as error:
            raise self._failure(op, self.ops[op]) from error

    def _failure(self, op: int, kind: str) -> SoakFailure:
        cause = traceback.format_exc()
        return SoakFailure(self.settings.seed, self.run.index, op, kind, cause)


def soak_account(settings: Settings, run: AccountRun) -> Tally | SoakFailure:
    """In a worker: an account's tally, or its failure as a value (it pickles)."""
    try:
        return AccountSoak(settings, run)()
    except SoakFailure as failure:
        return failure


class Soak:
    def __init__(self, settings: Settings, ops: int, workers: int = 1) -> None:
        self.settings, self.target, self.workers = settings, ops, workers
        self.progress_every = 1_000
        self.tally = Tally()

    def run(self, progress: Callable[[], None]) -> Tally:
        self.run_accounts(list(plan(self.settings, self.target)), progress)
        return self.tally

    def run_accounts(self, runs: list[AccountRun], progress: Callable[[], None]) -> None:
        last = 0
        for result in self._results(runs):
            if isinstance(result, SoakFailure):
                raise result
            self.tally.add(result)
            if self.tally.ops // self.progress_every > last // self.progress_every:
                progress()
            last = self.tally.ops
            if result.stopped_early:
                break

    def _results(self, runs: list[AccountRun]) -> Iterator[Tally | SoakFailure]:
        if self.workers == 1:
            yield from (soak_account(self.settings, run) for run in runs)
            return
        with multiprocessing.get_context("fork").Pool(self.workers) as pool:
            yield from pool.imap(partial(soak_account, self.settings), runs)


class Progress:
    """A line on stderr now and then, and the summary so far in the JSON file if any."""

    def __init__(self, soak: Soak, json_path: Path | None) -> None:
        self.soak, self.json_path, self.started = soak, json_path, time.monotonic()

    def __call__(self) -> None:
        tally, target = self.soak.tally, self.soak.target
        elapsed = time.monotonic() - self.started
        rate = tally.ops / elapsed if elapsed else 0.0
        eta = (target - tally.ops) / rate if rate else 0.0
        print(
            f"{tally.ops:>10,} / {target:,} ops  {rate:,.1f} ops/s"
            f"  {tally.accounts:,} accounts  elapsed {elapsed:,.0f}s  eta {eta:,.0f}s",
            file=sys.stderr,
            flush=True,
        )
        if self.json_path:
            self.write(elapsed)

    def write(self, elapsed: float) -> str:
        text = json.dumps(summary(self.soak, elapsed), indent=2)
        if self.json_path:
            self.json_path.write_text(text + "\n", encoding="utf-8")
        return text


def summary(soak: Soak, seconds: float) -> dict[str, Any]:
    tally, settings = soak.tally, soak.settings
    return {
        "ops": tally.ops,
        "ops_asked": soak.target,
        "stopped_by_time_limit": tally.stopped_early,
        "seed": settings.seed,
        "workers": soak.workers,
        "deep_every": settings.deep_every,
        "lifetime": list(settings.lifetime),
        "seconds": round(seconds, 1),
        "ops_per_second": round(tally.ops / seconds, 1) if seconds else None,
        "accounts": tally.accounts,
        "events": tally.events,
        "ops_by_kind": dict(tally.ops_by_kind.most_common()),
        "events_by_type": dict(tally.events_by_type.most_common()),
        "commands": dict(sorted(tally.commands.items())),
        "invariant_checks": dict(tally.checks),
        "machine": {**describe_host(), "load_average": os.getloadavg()},
    }


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--ops", type=int, default=1_000_000, help="operations to run")
    parser.add_argument("--seed", type=int, default=None, help="default: a random one")
    parser.add_argument(
        "--account", type=int, default=None, help="run only this account (--ops: its first N)"
    )
    parser.add_argument("--min-life", type=int, default=20, help="fewest rules per account")
    parser.add_argument("--max-life", type=int, default=200, help="most rules per account")
    parser.add_argument(
        "--deep-every", type=int, default=10, help="replay and rebuild every N operations"
    )
    parser.add_argument("--workers", type=int, default=1, help="processes running accounts")
    parser.add_argument(
        "--max-seconds", type=float, default=None, help="stop early (a summary still comes)"
    )
    parser.add_argument("--progress", type=int, default=1_000, help="a line every N ops")
    parser.add_argument("--json", type=Path, default=None, help="also write the summary here")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    configure_logging(json=False, level="WARNING")  # a line per declined payment is noise
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(2**32)
    started = time.monotonic()
    deadline = started + args.max_seconds if args.max_seconds else float("inf")
    lifetime = (args.min_life, args.max_life)
    soak = Soak(Settings(seed, lifetime, max(args.deep_every, 1), deadline), args.ops, args.workers)
    soak.progress_every = args.progress
    runs = (
        [AccountRun(args.account, args.ops)]
        if args.account is not None
        else list(plan(soak.settings, args.ops))
    )
    print(
        f"soak: seed {seed}, {args.ops:,} operations, {len(runs):,} accounts",
        file=sys.stderr,
        flush=True,
    )
    progress = Progress(soak, args.json)
    try:
        soak.run_accounts(runs, progress)
    except SoakFailure as failure:
        print(failure.cause, file=sys.stderr)
        print(f"FAILED: {failure}", file=sys.stderr, flush=True)
        return 1
    print(progress.write(time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
