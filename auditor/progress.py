"""A process-wide hook that readers feed with the bytes they have decoded.

Readers call :func:`advance` from Polars worker threads; a front end (the CLI's
progress bar) installs a callback with :func:`reporting`. Nothing here prints.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

_callback: Callable[[int], None] | None = None


def advance(nbytes: int) -> None:
    """Report that ``nbytes`` more input bytes were decoded (a no-op without a callback)."""
    callback = _callback
    if callback is not None:
        callback(nbytes)


@contextmanager
def reporting(callback: Callable[[int], None]) -> Iterator[None]:
    """Send progress to ``callback`` for the duration of the block."""
    global _callback
    previous, _callback = _callback, callback
    try:
        yield
    finally:
        _callback = previous
