"""Benchmarks the ledger on real PostgreSQL and Kafka; see docs/benchmarks.md."""

from __future__ import annotations

import argparse

from bench import batch_size
from bench.run import Options, run


def _sizes(text: str) -> tuple[int, ...]:
    sizes = tuple(int(part) for part in text.split(","))
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes are positive integers, e.g. 1,10,100")
    return sizes


def _options() -> Options:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--events", type=int, default=20_000, help="N: events per append run")
    parser.add_argument("--chunk", type=int, default=500, help="accounts per save() in 2b")
    parser.add_argument("--rate", type=float, default=200.0, help="offered appends/s (lag)")
    parser.add_argument("--lag-seconds", type=float, default=20.0, help="lag run length")
    parser.add_argument(
        "--durable",
        action="store_true",
        help="fsync/synchronous_commit/full_page_writes on (the harness turns them off)",
    )
    parser.add_argument(
        "--batch-sizes",
        type=_sizes,
        default=batch_size.SIZES,
        metavar="1,10,...",
        help="accounts per save in stage 6 (comma-separated)",
    )
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help="update docs/benchmarks.md and redraw its charts (docs/benchmarks/*.png)",
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="first wait up to this long for the machine to be nearly idle",
    )
    args = parser.parse_args()
    return Options(
        events=args.events,
        chunk=args.chunk,
        rate=args.rate,
        lag_seconds=args.lag_seconds,
        durable=args.durable,
        write_docs=args.write_docs,
        wait_quiet_s=args.wait_quiet,
        batch_sizes=args.batch_sizes,
    )


if __name__ == "__main__":
    run(_options())
