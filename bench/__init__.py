"""Benchmarks for commsflow (`make bench`). Results go to bench/results.json."""
