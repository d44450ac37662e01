"""Benchmarks of d2lmini's vectorized core: run ``make bench`` or ``python -m benchmarks``.

Each table prints median times measured side by side in one run, and their ratios; timings
belong here, never in the tests.
"""
