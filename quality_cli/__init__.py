"""The `quality` command line: thin commands over `handlers`, `auditor` and `dashboards`."""

import os

# Polars' allocator (jemalloc) keeps freed pages for 10 s by default; the auditor frees
# large intermediates one after another, which would pile up in resident memory. Read
# when Polars loads, so it is set here, before anything imports it.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:250,muzzy_decay_ms:0")
