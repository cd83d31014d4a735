"""Benchmark of the server at the size of a large company (`make bench`).

`generate` builds the data set in bulk SQL, `load` is the separate process that
drives the server, and `run` ties them together and writes docs/BENCHMARKS.md.
"""
