"""ID minting: the one module that creates thread, run, session and request IDs.

Format: ``{prefix}_{epoch_ms}_{counter}_{hex8}``. IDs are opaque everywhere
else; nothing parses them. Tests replace the generator with
:func:`handlers.testing.deterministic_ids` to get reproducible IDs.
"""

from __future__ import annotations

import itertools
import os
import random
import threading
import time
from collections.abc import Callable

IdGenerator = Callable[[str], str]


class IdMinter:
    """Thread-safe ``{prefix}_{epoch_ms}_{counter}_{hex8}`` generator."""

    __slots__ = ("_clock_ms", "_counter", "_lock", "_random_hex")

    def __init__(
        self,
        clock_ms: Callable[[], int] | None = None,
        random_hex: Callable[[], str] | None = None,
    ) -> None:
        self._clock_ms = clock_ms or (lambda: time.time_ns() // 1_000_000)
        # IDs are names, not secrets (access is checked by ownership), so a fast PRNG seeded
        # from the OS is enough; secrets.token_hex costs a syscall per ID.
        rng = random.Random(os.urandom(16))
        self._random_hex = random_hex or (lambda: f"{rng.getrandbits(32):08x}")
        self._counter = itertools.count(1)
        self._lock = threading.Lock()

    def __call__(self, prefix: str) -> str:
        with self._lock:
            n = next(self._counter)
        return f"{prefix}_{self._clock_ms()}_{n}_{self._random_hex()}"


_default = IdMinter()


def new_id(prefix: str) -> str:
    """A fresh ID with the process-wide minter, e.g. ``new_id("thread")``."""
    return _default(prefix)
