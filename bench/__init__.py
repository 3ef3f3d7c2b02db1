"""Benchmarks (`make bench`): each module measures against a baseline in the same run and writes
its section of BENCHMARKS.md."""
