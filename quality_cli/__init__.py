"""The `quality` command line: thin commands over `handlers`, `auditor` and `dashboards`."""

import os

# Polars' allocator (jemalloc) keeps freed pages for 10 s by default; the auditor frees
# large intermediates one after another, which would pile up in resident memory (850-900
# MB at 5 M events). 1 s keeps it at about 630 MB, whatever the input's size; 250 ms saved
# 70 MB more but cost 0.5 CPU-s of page faults. Read when Polars loads, so it is set here,
# before anything imports it.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:1000,muzzy_decay_ms:0")
