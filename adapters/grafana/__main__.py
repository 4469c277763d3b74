"""`python -m adapters.grafana`: writes every dashboard's JSON into deploy/grafana/dashboards/
(`--check`: writes nothing, exits 1 when a committed file differs from what the code makes)."""

from __future__ import annotations

import sys

from adapters.grafana.catalogue import DASHBOARD_DIR, differing, write_all


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        stale = differing()
        for path in stale:
            print(f"{path} differs from what `python -m adapters.grafana` makes", file=sys.stderr)
        return 1 if stale else 0
    if argv:
        print("usage: python -m adapters.grafana [--check]", file=sys.stderr)
        return 2
    for path in write_all():
        print(f"wrote {path.relative_to(DASHBOARD_DIR.parents[2])}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
