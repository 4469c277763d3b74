"""A long-running process settles its heap once it is built (`ledger serve`, `relay`,
`project`, `scheduler`).

Everything made at start-up (imported modules, the container, the app and its routes, the
SDKs' clients) lives as long as the process, yet CPython's full collections walk all of it
every time: measured on a recompute (a 500-event stream read and decoded), full collections
paused the process for 84-103 ms each, which set the p99 (111 ms against a 12 ms median).
`gc.freeze()` moves what exists now out of the collector's sight (it is never freed, as it
never would be anyway); full collections then take under a millisecond (docs/benchmarks.md,
"Reads"). Objects made later are collected as usual."""

from __future__ import annotations

import gc


def settle() -> None:
    gc.collect()
    gc.freeze()
