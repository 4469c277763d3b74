"""One billing account driven by random commands, and the invariants it must keep: shared by
the hypothesis state machine (tests/unit/test_account_invariants.py) and the long seeded run
(`python -m bench.soak`)."""
