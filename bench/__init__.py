"""Benchmarks of dcc, run by ``dcc bench NAME`` on a throw-away database.

Each scenario is a module of this package exposing ``run(options) -> list[Metric]``; it
measures dcc and a baseline in the same run, alternating them (see docs/performance.md).
"""
