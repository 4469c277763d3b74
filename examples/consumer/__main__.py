"""`python -m examples.consumer`: catch up with the topic (or rebuild the view), then exit."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from examples.consumer.subscriber import open_subscriber


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bootstrap", default="localhost:9092")
    parser.add_argument("--topic", default="billing.events")
    parser.add_argument("--group", default="example-consumer")
    parser.add_argument("--contract", type=Path, default=Path("docs/contract"))
    parser.add_argument("--db", type=Path, default=Path("example-view.sqlite"))
    parser.add_argument(
        "--rebuild", action="store_true", help="forget the view, read from the start"
    )
    args = parser.parse_args()
    subscriber = open_subscriber(args.bootstrap, args.topic, args.group, args.contract, args.db)
    run = subscriber.rebuild() if args.rebuild else subscriber.catch_up()
    print(asyncio.run(run))


if __name__ == "__main__":
    main()
