"""Logs as platforms store them: the app's JSON lines wrapped, one wrapper a line.

A service writes JSON lines to stdout; what a user finds on disk is often those lines
wrapped by the platform or a log forwarder:

- ``docker``: the json-file driver (``/var/lib/docker/containers/*/*-json.log``),
  ``{"log": "<the line>\\n", "stream": "stdout", "time": "...Z"}``; a line over 16 KB is
  split over several entries, all but the last without the final newline;
- ``cri``: the CRI format of Kubernetes' nodes (``/var/log/pods/...``),
  ``<RFC 3339 time> <stream> <P|F> <the line>``, ``P`` for a partial piece, ``F`` for the
  last; also the ``<RFC 3339 time> <the line>`` of ``kubectl logs --timestamps`` and
  ``docker logs --timestamps``;
- ``embedded``: a forwarder's record holding the line as a string (journald's
  ``MESSAGE``, Loki's ``line``, Vector's ``message``, Fluent Bit's ``log``) or as an
  object (AWS Lambda's JSON format's ``message``);
- ``prefixed``: the line after a text prefix (Heroku's ``<time> app[web.1]: ``, syslog's
  ``<14>1 <time> host app pid - - ``, Lambda's text format).

Each wrapped line becomes the app's line, read as JSON lines are (:mod:`auditor.readers.jsonl`,
which opens the source through :func:`unwrap`): the same record, the same reasons, the
same ``source:line``. A JSON object keeps its own keys; when it has no timestamp of its own
the wrapper's time is added as ``@timestamp`` (the last default name, so that the app's
own always wins). A line that is not a JSON object becomes a record of the wrapper's time
and the line as its ``message`` (unattributed, unless ``--extract`` finds the IDs in its
text); an empty line is no record. The pieces of a split line become blank lines (no
records) and the last piece the whole line, so that line numbers stay the file's; a
split line the file ends in is a record at its last piece's line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

import orjson

from auditor.fields import DEFAULT_CANDIDATES, lookup

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
#: The key the wrapper's time is added as: the last default name of the timestamp.
_ADDED_TIME = "@timestamp"

#: RFC 3339 with an offset, then a space: the start of a CRI or `--timestamps` line.
_STAMP = r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?(?:[Zz]|[+-][0-9]{2}:?[0-9]{2})"
_CRI = re.compile(rf"({_STAMP}) (stdout|stderr) ([PF]) ")
_STAMPED = re.compile(rf"({_STAMP}) ")
_STAMPED_OBJECT = re.compile(rf"{_STAMP} \{{")
#: The first RFC 3339 time of a line's prefix (Heroku's first field, syslog's second).
_PREFIX_STAMP = re.compile(_STAMP)
#: What the lines of a `prefixed` file begin with: a syslog priority (RFC 5424), a time,
#: or a BSD syslog time (`Nov 24 08:00:00`, /var/log/syslog).
_PREFIX_START = re.compile(
    rf"<[0-9]{{1,3}}>|{_STAMP}|[A-Z][a-z]{{2}} [ 0-9][0-9] [0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}} "
)
#: `{` of a line's prefix tried as the start of its JSON object (a syslog structured
#: data element may hold one: `[meta k="{x}"]`).
_PREFIX_TRIES = 8
#: First lines a detection looks at.
_HEAD_LINES = 20
#: The default names of a user and a thread, and the first parts of the dotted ones.
_DEFAULT_IDS: tuple[str, ...] = (*DEFAULT_CANDIDATES["user_id"], *DEFAULT_CANDIDATES["thread_id"])
_DEFAULT_ID_HEADS: frozenset[str] = frozenset(n.split(".")[0] for n in _DEFAULT_IDS if "." in n)
#: The keys of a json-file driver entry (``attrs`` with `--log-opt labels=...`).
_DOCKER_KEYS = frozenset({"log", "stream", "time", "attrs"})


def wrapped(sources: Sequence[Source], wrapper: str) -> list[Source]:
    """Container logs as the JSON-lines sources of the app's lines (``Source.open`` unwraps)."""
    return [replace(source, wrapper=wrapper) for source in sources]


def _scan(wrapper: str, sources: Sequence[Source], options: ReadOptions) -> pl.LazyFrame:
    from auditor.readers.jsonl import scan_jsonl

    return scan_jsonl(wrapped(sources, wrapper), options)


def scan_docker(sources: Sequence[Source], options: ReadOptions) -> pl.LazyFrame:
    """The record frame of Docker json-file logs: their app lines as JSON lines."""
    return _scan("docker", sources, options)


def scan_cri(sources: Sequence[Source], options: ReadOptions) -> pl.LazyFrame:
    """The record frame of CRI (and `--timestamps`) logs: their app lines as JSON lines."""
    return _scan("cri", sources, options)


def scan_embedded(sources: Sequence[Source], options: ReadOptions) -> pl.LazyFrame:
    """The record frame of forwarders' records holding the app's JSON lines."""
    return _scan("embedded", sources, options)


def scan_prefixed(sources: Sequence[Source], options: ReadOptions) -> pl.LazyFrame:
    """The record frame of lines holding the app's JSON object after a text prefix."""
    return _scan("prefixed", sources, options)


# -- detection ------------------------------------------------------------------------


def is_docker_entry(value: object) -> bool:
    """A json-file driver entry: ``log`` and ``time`` strings, and no key the driver does
    not write (an app's own log line with a ``log`` key has others)."""
    return (
        isinstance(value, dict)
        and isinstance(value.get("log"), str)
        and isinstance(value.get("time"), str)
        and value.keys() <= _DOCKER_KEYS
    )


def is_cri_line(line: str) -> bool:
    """A CRI line, or a `--timestamps` line holding a JSON object."""
    return _CRI.match(line) is not None or _STAMPED_OBJECT.match(line) is not None


def names_a_user_or_thread(record: object, paths: Sequence[str] = ()) -> bool:
    """Whether a parsed record names a user or a thread at one of ``paths`` (default: the
    default candidates of both)."""
    if not isinstance(record, dict):
        return False
    if paths:
        return any(lookup(record, name) is not None for name in paths)
    # the default names, cheaply (this runs on every line of an `embedded` file): the
    # literal keys, then the general lookup only when a dotted name's head is a key
    if any(record.get(name) is not None for name in _DEFAULT_IDS):
        return True
    if not any(head in record for head in _DEFAULT_ID_HEADS):
        return False
    return any(lookup(record, name) is not None for name in _DEFAULT_IDS)


def embedded_line(record: object) -> str | None:
    """The app's JSON line a forwarder's record holds, when it names a user or a thread
    and the record does not itself; else None."""
    if not isinstance(record, dict) or names_a_user_or_thread(record):
        return None
    text = _held_line(record)
    if text is None:
        return None
    try:
        return text if names_a_user_or_thread(orjson.loads(text)) else None
    except orjson.JSONDecodeError:
        return None


def is_embedded(head: str, ids: Sequence[str] = ()) -> bool:
    """Whether the first record of a head's first lines that names a user or a thread,
    itself (at ``ids``: `--map`'s paths, else the default names) or in its line (AWS Lambda
    starts with a `platform.start` record), holds it in its line."""
    for line in _head_lines(head):
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if is_docker_entry(record) or names_a_user_or_thread(record, ids):
            return False
        if embedded_line(record) is not None:
            return True
    return False


def is_prefixed(head: str) -> bool:
    """Whether a head starts like a platform's line (a time, or a syslog priority), none of
    its first lines is a bare JSON value (a service's stdout printing spans is `console`),
    and one of them holds a JSON object naming a user or a thread after its prefix (Heroku
    starts with its router's lines, an app with a "server started" line)."""
    lines = [line for line in _head_lines(head) if line.strip()]
    if len(lines) > 1 and not head.endswith("\n"):
        lines.pop()  # cut by the head's end
    if not lines or _PREFIX_START.match(lines[0]) is None:
        return False
    if any(line.lstrip()[:1] in ("{", "[") for line in lines):
        return False
    for line in lines:
        found = prefixed_object(line)
        if found is not None and names_a_user_or_thread(orjson.loads(found[0])):
            return True
    return False


def _head_lines(head: str) -> list[str]:
    """A head's first lines (split no further: a head is up to 1 MB; and at newlines only,
    not at the U+2028 a JSON string may hold)."""
    return head.split("\n", _HEAD_LINES)[:_HEAD_LINES]


def prefixed_object(line: str) -> tuple[str, str | None] | None:
    """A line's JSON object after a prefix of text and the prefix's first RFC 3339 time, or
    None; the first `{` that starts an object to the line's end wins."""
    if line[:1] in "{[":
        return None
    start = line.find("{")
    for _ in range(_PREFIX_TRIES):
        if start <= 0:
            return None
        tail = line[start:].rstrip()
        try:
            value = orjson.loads(tail)
        except orjson.JSONDecodeError:
            start = line.find("{", start + 1)
            continue
        if not isinstance(value, dict):
            return None
        stamp = _PREFIX_STAMP.search(line, 0, start)
        return tail, None if stamp is None else stamp.group(0)
    return None


# -- unwrapping -----------------------------------------------------------------------


def unwrap(wrapper: str, lines: Iterator[bytes]) -> Iterator[bytes]:
    """The app's lines (newline kept) of a wrapped log's lines, one for one."""
    if wrapper == "docker":
        return _docker(lines)
    if wrapper == "cri":
        return _cri(lines)
    if wrapper == "embedded":
        return _embedded(lines)
    if wrapper == "prefixed":
        return _prefixed(lines)
    raise ValueError(f"unknown container wrapper {wrapper!r}")


def _held_line(record: dict[str, object], texts: bool = False) -> str | None:
    """The JSON text of the app's line a forwarder's record holds (an object, or a string
    starting like one; with ``texts`` any string), None when it holds none."""
    for key in _LINE_KEYS:
        value = record.get(key)
        if isinstance(value, dict):  # AWS Lambda's JSON format: the app's object itself
            return orjson.dumps(value).decode()
        if isinstance(value, str) and (texts or value.lstrip().startswith("{")):
            return value
    return None


def _embedded(lines: Iterator[bytes]) -> Iterator[bytes]:
    for line in lines:
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            yield line
            continue
        text = None
        if isinstance(record, dict) and not names_a_user_or_thread(record):
            text = _held_line(record, texts=True)
        if text is None:
            yield line  # the forwarder's own record (or not one): read as it is
            continue
        time = next((record[k] for k in _TIME_KEYS if record.get(k) is not None), None)
        # a JSON line as the app wrote it; a text one (a traceback) a record of its time
        # and text; an empty one no record
        yield _app_line(text, time)


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
        yield _app_line(*found)


class _Pieces:
    """The pieces of split lines, by stream (Docker and the CRI runtime interleave stdout
    and stderr), and the stream of the last line when it was a piece: its blank line is
    given only when the next line comes, so that a split line the file ends in is a
    record at its last piece's line."""

    def __init__(self) -> None:
        self.by_stream: dict[object, list[str]] = {}
        self.held: object = None
        self.holding = False

    def release(self) -> Iterator[bytes]:
        """The held piece's blank line, before the next line's."""
        if self.holding:
            self.holding = False
            yield b"\n"

    def add(self, stream: object, text: str) -> None:
        self.by_stream.setdefault(stream, []).append(text)
        self.held, self.holding = stream, True

    def whole(self, stream: object, text: str) -> str:
        pieces = self.by_stream.pop(stream, [])
        return "".join((*pieces, text))

    def end(self) -> Iterator[bytes]:
        """What the file ends inside: the held stream's line at its last piece's line, the
        others (a rarer cut) after the last line, as a cut compressed stream's record."""
        if self.holding:
            self.holding = False
            yield _app_line("".join(self.by_stream.pop(self.held, [])), None)
        for pieces in self.by_stream.values():
            if pieces:
                yield _app_line("".join(pieces), None)


def _docker(lines: Iterator[bytes]) -> Iterator[bytes]:
    pieces = _Pieces()
    for line in lines:
        yield from pieces.release()
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError:
            yield line  # read as it is: its reason says what is wrong
            continue
        if not is_docker_entry(entry):
            yield line
            continue
        text: str = entry["log"]
        if not text.endswith("\n"):  # a piece of a line over 16 KB
            pieces.add(entry.get("stream"), text)
            continue
        yield _app_line(pieces.whole(entry.get("stream"), text[:-1]), entry["time"] or None)
    yield from pieces.end()


def _cri(lines: Iterator[bytes]) -> Iterator[bytes]:
    pieces = _Pieces()
    for line in lines:
        yield from pieces.release()
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            yield line  # invalid_utf8, as any line
            continue
        content = text.removesuffix("\n").removesuffix("\r")
        if (match := _CRI.match(content)) is not None:
            stamp, stream, tag = match.groups()
            rest = content[match.end() :]
            if tag == "P":
                pieces.add(stream, rest)
                continue
            yield _app_line(pieces.whole(stream, rest), stamp)
        elif (stamped := _STAMPED.match(content)) is not None:
            yield _app_line(content[stamped.end() :], stamped.group(1))
        else:
            yield line  # no wrapper: read as it is
    yield from pieces.end()


def _app_line(text: str, time: object) -> bytes:
    """The app's line as one JSON line: its object, with the wrapper's ``time`` (a JSON
    value, None when it has none) when it has none of its own; a record of the time and
    the text when it is not an object; a blank line when it is empty; a broken object as
    it is, on one line (invalid_json)."""
    body = text.strip()
    if not body:
        return b"\n"
    if not body.startswith("{"):
        record = {"message": text} if time is None else {_ADDED_TIME: time, "message": text}
        return orjson.dumps(record) + b"\n"
    try:
        value = orjson.loads(body)  # a dict when it parses: it starts with "{"
    except orjson.JSONDecodeError:
        return body.replace("\r", " ").replace("\n", " ").encode() + b"\n"
    own = any(value.get(key) is not None for key in DEFAULT_CANDIDATES["ts"])
    if own or time is None:
        if "\n" not in body and "\r" not in body:
            return body.encode() + b"\n"  # as the app wrote it (a repeated key's first wins)
        return orjson.dumps(value) + b"\n"  # one line
    value[_ADDED_TIME] = time
    return orjson.dumps(value) + b"\n"
