"""Lone UTF-16 surrogate escapes in JSON text (``"\\ud83d"`` without its pair).

RFC 8259 (section 8.2) allows them; a JavaScript logger cutting a string writes them.
orjson refuses such text, Polars' readers read some of them as U+0000 and refuse the
others, and a Python string holding one cannot become UTF-8 (a Polars column). Every
reader that decodes text itself replaces them first, as Polars reads them, so that a
record reads the same whichever path decoded it.
"""

from __future__ import annotations

import re

#: A backslash escape in JSON text: ``\uXXXX`` (its hex digits captured) or another one.
_ESCAPE = re.compile(r"\\(?:u([0-9a-fA-F]{4})|.)", re.DOTALL)
#: Polars' pattern for lines holding a UTF-16 surrogate escape, paired or not.
SURROGATE_ESCAPE = r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}"


def lone_surrogates_replaced(text: str) -> str:
    """JSON text with every lone UTF-16 surrogate escape (``\\ud83d`` without its pair, as
    a JavaScript logger cutting a string writes) replaced as Polars' readers read it, so
    that a line reads the same on every path: a high half followed by anything but another
    ``\\u`` escape becomes U+0000; the halves Polars refuses (a low half alone, a
    high one before those) become U+FFFD, the replacement character (no Polars reading of
    them exists to agree with). RFC 8259 allows such escapes; Python strings cannot hold
    them as UTF-8."""
    out: list[str] = []
    last = 0
    high: re.Match[str] | None = None  # a high surrogate waiting for its low half

    def lone(escape: re.Match[str], replacement: str) -> None:
        nonlocal last
        out.append(text[last : escape.start()])
        out.append(replacement)
        last = escape.end()

    for escape in _ESCAPE.finditer(text):
        code = int(escape.group(1), 16) if escape.group(1) else -1
        if high is not None:
            adjacent = escape.start() == high.end()
            if adjacent and 0xDC00 <= code <= 0xDFFF:
                high = None  # a pair: one character
                continue
            refused = adjacent and escape.group(1) is not None
            lone(high, "\\ufffd" if refused else "\\u0000")
            high = None
        if 0xD800 <= code <= 0xDBFF:
            high = escape
        elif 0xDC00 <= code <= 0xDFFF:
            lone(escape, "\\ufffd")
    if high is not None:
        lone(high, "\\u0000")
    out.append(text[last:])
    return "".join(out)
