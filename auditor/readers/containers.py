"""Container logs: the app's JSON lines as Docker and Kubernetes store them (``docker``, ``cri``).

A service on Docker or Kubernetes writes JSON lines to stdout; what lies on the node is
those lines wrapped, one wrapper a line:

- ``docker``: the json-file driver (``/var/lib/docker/containers/*/*-json.log``),
  ``{"log": "<the line>\\n", "stream": "stdout", "time": "...Z"}``; a line over 16 KB is
  split over several entries, all but the last without the final newline;
- ``cri``: the CRI format of Kubernetes' nodes (``/var/log/pods/...``),
  ``<RFC 3339 time> <stream> <P|F> <the line>``, ``P`` for a partial piece, ``F`` for the
  last; also the ``<RFC 3339 time> <the line>`` of ``kubectl logs --timestamps`` and
  ``docker logs --timestamps``.

Each wrapped line becomes the app's line, read as JSON lines are (:mod:`auditor.readers.jsonl`,
which opens the source through :func:`unwrap`): the same record, the same reasons, the
same ``source:line``. A JSON object keeps its own keys; the wrapper's time is appended
as a last ``"time"`` key, which its own timestamp key wins over (the first of a repeated
key, and ``timestamp`` before ``time``, is what is read). A line that is not a JSON object
becomes ``{"time": ..., "message": <the line>}`` (unattributed, unless ``--extract``
finds the IDs in its text). The pieces of a split line become blank lines (no records)
and the last piece the whole line, so that line numbers stay the file's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:
    import polars as pl

    from auditor.fields import ReadOptions
    from auditor.sources import Source

#: Container wrappers the readers unwrap, by format name.
WRAPPERS: tuple[str, ...] = ("docker", "cri", "embedded", "prefixed")

#: Where forwarders put the app's line in a record of their own: Docker and Fluent Bit
#: (`log`), Vector and most shippers (`message`), journald (`MESSAGE`), Loki (`line`).
_LINE_KEYS: tuple[str, ...] = ("log", "message", "MESSAGE", "line", "msg")
#: The forwarder's time, the first found: Loki and Vector (`timestamp`), Fluent Bit
#: (`date`, epoch seconds), journald (`__REALTIME_TIMESTAMP`, epoch microseconds).
_TIME_KEYS: tuple[str, ...] = (
    "timestamp",
    "ts",
    "time",
    "@timestamp",
    "date",
    "__REALTIME_TIMESTAMP",
)

#: RFC 3339 with an offset, then a space: the start of a CRI or `--timestamps` line.
_STAMP = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:?[0-9]{2})"
_CRI = re.compile(rf"({_STAMP}) (stdout|stderr) ([PF]) ")
_STAMPED = re.compile(rf"({_STAMP}) ")
#: The first RFC 3339 time of a line's prefix (Heroku's first field, syslog's second).
_PREFIX_STAMP = re.compile(_STAMP)
#: First lines that must all be prefixed JSON objects for a file to be `prefixed`.
_PREFIXED_HEAD = 3
#: The keys of a json-file driver entry (``attrs`` with `--log-opt labels=...`).
_DOCKER_KEYS = frozenset({"log", "stream", "time", "attrs"})


def wrapped(sources: Sequence[Source], wrapper: str) -> list[Source]:
    """Container logs as the JSON-lines sources of the app's lines (``Source.open`` unwraps)."""
    return [replace(source, wrapper=wrapper) for source in sources]


def scan_docker(sources: Sequence[Source], options: ReadOptions) -> pl.LazyFrame:
    """The record frame of Docker json-file logs: their app lines as JSON lines."""
    from auditor.readers.jsonl import scan_jsonl

    return scan_jsonl(wrapped(sources, "docker"), options)


def scan_embedded(sources: Sequence[Source], options: ReadOptions) -> pl.LazyFrame:
    """The record frame of forwarders' records holding the app's JSON lines as strings."""
    from auditor.readers.jsonl import scan_jsonl

    return scan_jsonl(wrapped(sources, "embedded"), options)


def scan_prefixed(sources: Sequence[Source], options: ReadOptions) -> pl.LazyFrame:
    """The record frame of lines holding the app's JSON object after a text prefix."""
    from auditor.readers.jsonl import scan_jsonl

    return scan_jsonl(wrapped(sources, "prefixed"), options)


def scan_cri(sources: Sequence[Source], options: ReadOptions) -> pl.LazyFrame:
    """The record frame of CRI (and `--timestamps`) logs: their app lines as JSON lines."""
    from auditor.readers.jsonl import scan_jsonl

    return scan_jsonl(wrapped(sources, "cri"), options)


def is_docker_entry(value: object) -> bool:
    """A json-file driver entry: ``log`` and ``time`` strings, and no key the driver does
    not write (an app's own log line with a ``log`` key has others)."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("log"), str)
        and isinstance(value.get("time"), str)
        and value.keys() <= _DOCKER_KEYS
    )


def embedded_line(record: object) -> str | None:
    """The app's JSON line a forwarder's record holds as a string (journald's `MESSAGE`,
    Loki's `line`, Vector's `message`, Fluent Bit's `log`) or as an object (AWS Lambda's
    JSON format's `message`), or None: a JSON object naming a user or a thread, in a
    record that names neither itself."""
    if not isinstance(record, dict) or _names_a_user_or_thread(record):
        return None
    for key in _LINE_KEYS:
        text = record.get(key)
        if isinstance(text, dict):  # AWS Lambda's JSON format: the app's object itself
            return orjson.dumps(text).decode() if _names_a_user_or_thread(text) else None
        if isinstance(text, str) and text.lstrip().startswith("{"):
            try:
                inner = orjson.loads(text)
            except orjson.JSONDecodeError:
                return None
            return text if _names_a_user_or_thread(inner) else None
    return None


def _names_a_user_or_thread(record: object) -> bool:
    from auditor.fields import DEFAULT_CANDIDATES, lookup

    if not isinstance(record, dict):
        return False
    names = (*DEFAULT_CANDIDATES["user_id"], *DEFAULT_CANDIDATES["thread_id"])
    return any(lookup(record, name) is not None for name in names)


def prefixed_object(line: str) -> tuple[str, str | None] | None:
    """A line's JSON object after a prefix of text (Heroku's `<time> app[web.1]: {...}`,
    syslog's `<14>1 <time> host app pid - - {...}`, Lambda's `<time>\t<id>\tINFO\t{...}`)
    and the prefix's first RFC 3339 time (JSON text), or None."""
    start = line.find("{")
    if start <= 0 or line[:1] in "{[":
        return None
    tail = line[start:].rstrip()
    try:
        value = orjson.loads(tail)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(value, dict):
        return None
    stamp = _PREFIX_STAMP.search(line, 0, start)
    return tail, None if stamp is None else orjson.dumps(stamp.group(0)).decode()


def is_prefixed(head: str) -> bool:
    """Whether a file's first lines (three, or as many as it has) are JSON objects after a
    text prefix, the first naming a user or a thread (a service's stdout with one such log
    line, then a span printed over many lines, is no such file)."""
    lines = [line for line in head.splitlines() if line.strip()][:_PREFIXED_HEAD]
    found = [prefixed_object(line) for line in lines]
    if not found or any(f is None for f in found):
        return False
    first = found[0]
    return first is not None and _names_a_user_or_thread(orjson.loads(first[0]))


def is_cri_line(line: str) -> bool:
    """A CRI line, or a `--timestamps` line holding a JSON object."""
    return _CRI.match(line) is not None or re.match(rf"{_STAMP} \{{", line) is not None


def unwrap(wrapper: str, lines: Iterator[bytes]) -> Iterator[bytes]:
    """The app's lines (newline kept) of a container log's lines, one for one."""
    if wrapper == "docker":
        return _docker(lines)
    if wrapper == "cri":
        return _cri(lines)
    if wrapper == "embedded":
        return _embedded(lines)
    if wrapper == "prefixed":
        return _prefixed(lines)
    raise ValueError(f"unknown container wrapper {wrapper!r}")


def _prefixed(lines: Iterator[bytes]) -> Iterator[bytes]:
    for line in lines:
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            yield line  # invalid_utf8, as any line
            continue
        found = prefixed_object(text)
        if found is None:
            yield line  # a JSON line, or no JSON at all: read as it is
            continue
        body, time = found
        yield _app_line(body, time)


def _embedded(lines: Iterator[bytes]) -> Iterator[bytes]:
    for line in lines:
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            yield line
            continue
        text = embedded_line(record)
        if text is None:
            yield line  # the forwarder's own record (or not one): read as it is
            continue
        time = next((record[k] for k in _TIME_KEYS if record.get(k) is not None), None)
        yield _app_line(text, None if time is None else orjson.dumps(time).decode())


def _docker(lines: Iterator[bytes]) -> Iterator[bytes]:
    pending: dict[object, list[str]] = {}  # by stream: the driver interleaves stdout and stderr
    for line in lines:
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            yield line  # read as it is: its reason says what is wrong
            continue
        if not is_docker_entry(entry):
            yield line
            continue
        text: str = entry["log"]
        pieces = pending.setdefault(entry.get("stream"), [])
        if not text.endswith("\n"):  # a piece of a line over 16 KB
            pieces.append(text)
            yield b"\n"
            continue
        whole = "".join((*pieces, text[:-1]))
        pieces.clear()
        yield _app_line(whole, _stamp(entry["time"]))
    for pieces in pending.values():  # the file ends inside a split line: what came of it
        if pieces:  # one more record, after the last line (as a cut compressed stream's)
            yield _app_line("".join(pieces), None)


def _cri(lines: Iterator[bytes]) -> Iterator[bytes]:
    pending: dict[str, list[bytes]] = {}  # by stream, as the runtime writes them
    for line in lines:
        head = line[:80].decode("utf-8", "replace")
        match = _CRI.match(head)
        if match is not None:
            stamp, tag = match.group(1), match.group(3)
            text = line[len(match.group(0).encode()) :].removesuffix(b"\n").removesuffix(b"\r")
            pieces = pending.setdefault(match.group(2), [])
            if tag == "P":
                pieces.append(text)
                yield b"\n"
                continue
            whole = b"".join((*pieces, text))
            pieces.clear()
        elif (stamped := _STAMPED.match(head)) is not None:
            stamp = stamped.group(1)
            whole = line[len(stamped.group(0).encode()) :].removesuffix(b"\n").removesuffix(b"\r")
        else:
            yield line  # no wrapper: read as it is
            continue
        try:
            yield _app_line(whole.decode("utf-8"), _stamp(stamp))
        except UnicodeDecodeError:
            yield whole + b"\n"  # read as it is: invalid_utf8
    for pieces in pending.values():  # the file ends inside a split line: one more record
        if pieces:
            yield b"".join(pieces) + b"\n"


def _app_line(text: str, time: str | None) -> bytes:
    """The app's line as a JSON line: its object with the wrapper's time (``time``: JSON
    text) as a last key, or a record of the time and the text."""
    body = text.strip()
    if body.startswith("{"):
        if time is None or not body.endswith("}"):  # a cut object stays cut: invalid_json
            return body.encode() + b"\n"
        inside = body[1:-1].strip()
        # a JSON object stays as the app wrote it (a broken one stays broken: its reason)
        return f'{{{inside}{", " if inside else ""}"time": {time}}}\n'.encode()
    record = {"message": text} if time is None else {"time": orjson.loads(time), "message": text}
    return orjson.dumps(record) + b"\n"


def _stamp(text: str) -> str | None:
    """A wrapper's time string as JSON text (None when empty)."""
    return orjson.dumps(text).decode() if text else None
