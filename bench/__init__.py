"""Benchmark of the server at the size of a large company (`make bench`).

`generate` builds the data set in bulk SQL, `load` is the separate process that
drives the server, and `run` ties them together and writes docs/BENCHMARKS.md.
"""

import os

# The records key every benchmark's connections and servers share (webapp/domain/records.py):
# the data set's migration seals with it, and the server checks the records with it.
RECORDS_KEY = "bench-records-key-not-a-secret"
os.environ.setdefault("WUYE_RECORDS_KEY", RECORDS_KEY)
