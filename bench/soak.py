"""A long seeded random run: accounts driven by every kind of command (the rules of the
hypothesis state machine, tests/model) with every invariant checked after every operation.

    python -m bench.soak --ops 1000000 --seed 7

The same seed makes the same run; a failure prints the seed and the operation's index, and
`--ops INDEX+1` with that seed stops right after it. Each account lives for a random number
of operations, is wound down (plans cancelled, invoices voided, bad debt written off, credit
revoked) and closed, and the next one opens in a fresh in-memory store."""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

from adapters.logging import configure_logging
from bench.machine import describe_host
from tests.model.account import RULES, AccountModel, RandomDraws
from tests.model.invariants import INVARIANTS, ReadModelFolds, read_models_equal_a_rebuild

# How often each rule is drawn (the others weigh 1): time and money move most.
WEIGHTS = {"time_passes_and_billing_runs": 4, "subscribe": 2, "add_method": 2, "close": 0.25}
OPEN, WIND_DOWN = "open_account", "wind_down_and_close"


@dataclass
class Tally:
    ops: int = 0
    accounts: int = 0  # lived their life: wound down and closed, or cut short by the end
    events: int = 0  # of those accounts
    events_by_type: Counter[str] = field(default_factory=Counter)
    ops_by_kind: Counter[str] = field(default_factory=Counter)
    commands: Counter[str] = field(default_factory=Counter)
    checks: Counter[str] = field(default_factory=Counter)


class SoakFailure(Exception):
    def __init__(self, seed: int, index: int, kind: str) -> None:
        super().__init__(
            f"seed {seed}: operation {index} ({kind}) broke an invariant or raised;"
            f" reproduce with: python -m bench.soak --seed {seed} --ops {index + 1}"
        )


class Soak:
    def __init__(
        self, seed: int, ops: int, lifetime: tuple[int, int], deadline: float = float("inf")
    ) -> None:
        self.seed, self.target, self.lifetime = seed, ops, lifetime
        self.deadline = deadline  # time.monotonic() after which the run stops early
        self.stopped_early = False
        self.progress_every = 1_000
        self.rng = random.Random(seed)
        ids = random.Random(seed ^ 0x5EED)  # ids apart, so they never shift the choices
        self.new_id = lambda: UUID(int=ids.getrandbits(128), version=4)
        self.tally = Tally()
        self._kinds = list(RULES)
        self._weights = [WEIGHTS.get(k, 1) for k in self._kinds]

    def run(self, progress: Callable[[], None]) -> Tally:
        while self.tally.ops < self.target and not self.stopped_early:
            self._one_account(progress)
        return self.tally

    def _one_account(self, progress: Callable[[], None]) -> None:
        steps = self._steps(self.rng.randint(*self.lifetime))
        model: AccountModel = self._operate(OPEN, lambda: AccountModel(self.new_id))
        folds = ReadModelFolds(model)
        self._check(model, folds, OPEN)
        for kind in steps:
            if time.monotonic() > self.deadline:
                self.stopped_early = True
                break
            rule = getattr(model, kind)
            self._operate(kind, lambda: rule(RandomDraws(self.rng)))  # noqa: B023 (called now)
            self._check(model, folds, kind)
            if self.tally.ops % self.progress_every == 0:
                progress()
        self.tally.accounts += 1
        self.tally.commands.update(model.commands)
        self.tally.events += len(folds.envelopes)
        self.tally.events_by_type.update(e.event_type for e in folds.envelopes)

    def _steps(self, count: int) -> list[str]:
        """The next account's operations after opening it: `count` rules, then winding down
        and closing. A shorter run takes a prefix of the same operations (all `count` are
        drawn even so), so `--ops N` replays the first N operations of a longer run."""
        rules = self.rng.choices(self._kinds, self._weights, k=count)
        return [*rules, WIND_DOWN][: max(self.target - self.tally.ops - 1, 0)]

    def _operate(self, kind: str, action: Callable[[], Any]) -> Any:
        index = self.tally.ops
        try:
            result = action()
        except Exception as error:
            raise SoakFailure(self.seed, index, kind) from error
        self.tally.ops += 1
        self.tally.ops_by_kind[kind] += 1
        return result

    def _check(self, model: AccountModel, folds: ReadModelFolds, kind: str) -> None:
        try:
            for check in INVARIANTS:
                check(model)
                self.tally.checks[check.__name__] += 1
            read_models_equal_a_rebuild(model, folds)
            self.tally.checks[read_models_equal_a_rebuild.__name__] += 1
        except Exception as error:
            raise SoakFailure(self.seed, self.tally.ops - 1, kind) from error


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
    tally = soak.tally
    return {
        "ops": tally.ops,
        "ops_asked": soak.target,
        "stopped_by_time_limit": soak.stopped_early,
        "seed": soak.seed,
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
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--ops", type=int, default=1_000_000, help="operations to run")
    parser.add_argument("--seed", type=int, default=None, help="default: a random one")
    parser.add_argument("--min-life", type=int, default=20, help="fewest rules per account")
    parser.add_argument("--max-life", type=int, default=200, help="most rules per account")
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
    soak = Soak(seed, args.ops, (args.min_life, args.max_life), deadline)
    soak.progress_every = args.progress
    print(f"soak: seed {seed}, {args.ops:,} operations", file=sys.stderr, flush=True)
    progress = Progress(soak, args.json)
    try:
        soak.run(progress)
    except SoakFailure as failure:
        traceback.print_exception(failure.__cause__ or failure, file=sys.stderr)
        print(f"FAILED: {failure}", file=sys.stderr, flush=True)
        return 1
    print(progress.write(time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main())
