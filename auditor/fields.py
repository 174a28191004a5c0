"""Canonical fields, their default source names, and the `--map` / `--extract` options.

A canonical field is looked up through a list of candidate names, first present
wins. A candidate is a dotted path: ``user.id`` matches a key spelled ``user.id``
(OTel attribute style) or the nested path ``user`` -> ``id``; the literal key is
tried first.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, localcontext

from auditor.errors import UsageError

CANONICAL_FIELDS: tuple[str, ...] = (
    "ts",
    "user_id",
    "session_id",
    "thread_id",
    "run_id",
    "event",
    "trace_id",
    "span_id",
    "message",
)

#: The canonical fields that hold an ID or the event name: strings in every input.
STRING_FIELDS: tuple[str, ...] = tuple(f for f in CANONICAL_FIELDS if f not in ("ts", "message"))

#: Default candidates per canonical field, in priority order: DESIGN.md's ("Continuity semantics"), and two more.
DEFAULT_CANDIDATES: dict[str, tuple[str, ...]] = {
    "user_id": ("user.id", "user_id", "enduser.id"),
    "session_id": ("session.id", "session_id", "connection_id"),
    "thread_id": ("thread.id", "thread_id", "gen_ai.conversation.id"),
    "run_id": ("run.id", "run_id"),
    "event": ("event", "eventName", "name", "operationName"),
    # and `@timestamp` (Elastic ECS, Logstash, CloudWatch Logs Insights) and ECS's `span.id`;
    # not `event.action` or `trace.id`: their heads `event` and `trace` are also read as
    # strings, and a key read both ways sends every line to the per-line decoder
    "ts": (
        "timestamp",
        "ts",
        "time",
        "startTimeUnixNano",
        "timeUnixNano",
        "startTime",
        "@timestamp",
    ),
    "trace_id": ("trace_id", "traceId", "traceID", "trace", "otelTraceID"),
    "span_id": ("span_id", "spanId", "spanID", "otelSpanID", "span.id"),
    "message": ("message", "msg", "textPayload", "body"),
}


@dataclass(frozen=True, slots=True)
class ReadOptions:
    """How readers find the canonical fields in a record.

    ``candidates``: canonical field -> dotted paths tried in order (``--map`` puts
    its path first). ``extracts``: canonical field -> compiled regex whose first
    group, searched in the message text, fills the field when the record lacks
    it. ``split_by``: a dotted path whose value goes to the ``split_key`` column.
    ``holders``: canonical field -> its default candidates where an object is a namespace,
    not the field (:meth:`held`): those of an ID or the event not named as an ID, but a
    path ``--map`` names.
    """

    candidates: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: dict(DEFAULT_CANDIDATES)
    )
    extracts: Mapping[str, re.Pattern[str]] = field(default_factory=dict)
    split_by: str | None = None
    holders: Mapping[str, frozenset[str]] = field(default_factory=lambda: default_holders({}))

    def held(self, name: str, path: str, value: object) -> bool:
        """Whether ``value``, found at the default candidate ``path`` of ``name``, is an
        object that holds other fields rather than the field: Elastic ECS writes ``event``,
        ``trace`` and ``span`` as objects (``event.action``, ``trace.id``), and such a record
        has no event name or trace ID there (absent: the next candidate is tried), where
        it was rejected whole as `wrong_type`; a plain ``event`` string still is one. A
        path that ``--map`` names is the field whatever it holds (an object there is
        `wrong_type`)."""
        return isinstance(value, Mapping) and path in self.holders.get(name, ())


def default_holders(mapped: Mapping[str, Iterable[str]]) -> dict[str, frozenset[str]]:
    """The default candidates of each ID and the event where an object is a namespace
    (:meth:`ReadOptions.held`): those not named as an ID (``event``, ``name``, ``trace``;
    an object at ``thread_id`` or ``user.id``, such as MongoDB's ``{"$oid": ...}``, is a
    wrongly typed ID), less the paths ``mapped`` names for the field."""
    return {
        name: frozenset(
            c
            for c in DEFAULT_CANDIDATES[name]
            if not c.lower().endswith("id") and c not in mapped.get(name, ())
        )
        for name in STRING_FIELDS
    }


def _split_option(option: str, text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name or not value:
        raise UsageError(f"{option} takes FIELD=VALUE, got {text!r}")
    if name not in CANONICAL_FIELDS:
        raise UsageError(
            f"{option}: unknown field {name!r}; use one of {', '.join(CANONICAL_FIELDS)}"
        )
    return name, value


def build_read_options(
    maps: Iterable[str] = (), extracts: Iterable[str] = (), split_by: str | None = None
) -> ReadOptions:
    """Parse `--map FIELD=dotted.path` and `--extract FIELD=REGEX` options into `ReadOptions`."""
    candidates: dict[str, tuple[str, ...]] = dict(DEFAULT_CANDIDATES)
    mapped: dict[str, list[str]] = {}
    if split_by is not None:
        _check_depth("--split-by", split_by)
    for text in maps:
        name, path = _split_option("--map", text)
        _check_depth(f"--map {name}", path)
        candidates[name] = (path, *(c for c in candidates[name] if c != path))
        mapped.setdefault(name, []).append(path)
    patterns: dict[str, re.Pattern[str]] = {}
    for text in extracts:
        name, regex = _split_option("--extract", text)
        pattern = _extract_pattern(name, regex)
        if pattern.groups < 1:
            raise UsageError(f"--extract {name}: the regex needs a capture group, got {regex!r}")
        patterns[name] = pattern
    return ReadOptions(candidates, patterns, split_by, default_holders(mapped))


#: Most dotted parts of a `--map`/`--split-by` path: each dot may be a literal key's or a
#: nesting, so a path of n parts is looked up in 2^(n-1) ways (20 parts took 3 GB).
MAX_PATH_PARTS = 10


def _check_depth(option: str, path: str) -> None:
    parts = path.count(".") + 1
    if parts > MAX_PATH_PARTS:
        raise UsageError(
            f"{option}: a path of {parts} dotted parts; at most {MAX_PATH_PARTS} are read"
        )


def _extract_pattern(name: str, regex: str) -> re.Pattern[str]:
    """An ``--extract`` regex, checked in both engines that run it: Python's ``re`` (the
    readers of documents) and Polars' Rust ``regex`` (the JSON-lines reader). Only their
    common syntax may be used, so that every format reads the same: no look-around or
    backreferences (Rust), no ``(?<name>...)`` (older Python: use ``(?P<name>...)``), no
    POSIX classes ``[[:alpha:]]`` (Python reads them as a plain set, with a warning)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", FutureWarning)  # "possible nested set"
            pattern = re.compile(regex)
    except re.error as exc:
        raise UsageError(f"--extract {name}: invalid regex {regex!r}: {exc}") from None
    except FutureWarning as exc:
        raise UsageError(
            f"--extract {name}: regex {regex!r}: {exc}: POSIX classes such as [[:alnum:]] are"
            " not supported (write [A-Za-z0-9])"
        ) from None
    import polars as pl

    try:
        pl.Series([""], dtype=pl.String).str.extract(regex, 1)
    except pl.exceptions.PolarsError as exc:
        # Polars' message runs over several lines; its "error:" line says why
        lines = [x for x in str(exc).splitlines() if x.startswith("error:")]
        why = lines[-1].removeprefix("error:").strip() if lines else "unknown syntax"
        raise UsageError(
            f"--extract {name}: regex {regex!r} is not supported by Polars' regex engine: {why}"
        ) from None
    return pattern


def json_text(value: object) -> str:
    """A parsed JSON value as the text Polars' JSON readers make of it (a string as it is):
    numbers in plain decimal with the shortest digits that read back (``1.0`` -> ``1``,
    ``1e21`` -> ``1000000000000000000000``), so that a value reads the same whichever
    decoder a line went to (Python writes ``1.0`` and ``1e+21``). Arrays and objects,
    which Polars' readers never turn into text, as compact JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and math.isfinite(value):
        text = format(_shortest_digits(value), "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    return json.dumps(value, ensure_ascii=False)


def _shortest_digits(value: float) -> Decimal:
    """The shortest decimal that reads back as ``value``, as Polars writes it: Python's
    ``repr``, except where two candidates of that length are equally near the double, when
    Polars takes the one away from zero and Python the even one (562949953421312.25 is
    ``...312.3`` in Polars, ``...312.2`` in Python)."""
    shortest = Decimal(repr(value))
    exponent = shortest.as_tuple().exponent
    if not value or not isinstance(exponent, int):
        return shortest
    with localcontext() as exact:
        exact.prec = 1100  # every double's exact decimal expansion fits
        step = Decimal(1).scaleb(exponent)
        other = shortest + step if value > 0 else shortest - step
        double = Decimal(value)
        if abs(other - double) == abs(shortest - double) and float(other) == value:
            return other
    return shortest


def lookup(record: Mapping[str, object], path: str) -> object | None:
    """Value at a dotted path in a parsed record: the literal key first, then nested keys;
    the first of them that is not null (as the vectorized decoders coalesce them).

    ``lookup({"user.id": "u"}, "user.id") == "u"`` and
    ``lookup({"user": {"id": "u"}}, "user.id") == "u"``; also mixed, e.g.
    ``lookup({"attributes": {"user.id": "u"}}, "attributes.user.id")``, and
    ``lookup({"user.id": None, "user": {"id": "u"}}, "user.id") == "u"``.
    """
    literal = record.get(path)
    if literal is not None:
        return literal
    head, sep, rest = path.partition(".")
    while sep:
        value = record.get(head)
        if isinstance(value, Mapping):
            found = lookup(value, rest)
            if found is not None:
                return found
        nxt, sep, rest = rest.partition(".")
        head = f"{head}.{nxt}"
    return None


def first_present(record: Mapping[str, object], paths: Sequence[str]) -> object | None:
    """The value of the first candidate path present (not None) in the record."""
    for path in paths:
        value = lookup(record, path)
        if value is not None:
            return value
    return None
