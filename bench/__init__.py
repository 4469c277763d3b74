"""Benchmarks of the ledger on real PostgreSQL and Kafka: `uv run python -m bench`.

Not part of the test suite: nothing here asserts on timings. See docs/benchmarks.md.
"""
