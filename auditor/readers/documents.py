"""Splitting an input into JSON documents with the line each starts on.

One iterator serves every Python-level reader: JSON lines (one document per
line), pretty-printed documents one after another (ConsoleSpanExporter, a
pretty OTLP file) and, with ``explode_arrays``, the elements of a top-level JSON
array (gcloud, Zipkin). Whatever cannot be parsed becomes one rejected document
at the line it starts on: a bad line on its own, a broken pretty-printed
document (opened by a line holding only ``{`` or ``[``, or the whole input) up
to the next line that opens a new one at column 0, or the end.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import re
import threading
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import polars as pl
import zstandard

from auditor import progress
from auditor.errors import InputError
from auditor.fields import ReadOptions
from auditor.readers.surrogates import lone_surrogates_replaced
from auditor.records import RecordBuilder
from auditor.schema import RejectReason
from auditor.sources import LengthPrefixedZstd, Source

_WHITESPACE = re.compile(r"[ \t\r\n]*")
_NEXT_DOCUMENT = re.compile(r"\n(?=[\[{])")
#: What may follow an array element: a comma, the closing bracket, or the end of the input.
_NEXT_ELEMENT = re.compile(r"[ \t\r\n]*(?:[,\]]|\Z)")
_SURROGATE = re.compile("[\udc80-\udcff]")
_DECODER = json.JSONDecoder()


@dataclass(frozen=True, slots=True)
class Document:
    """One parsed JSON value (``reject`` None) or one unparseable stretch (``reject`` set)."""

    line: int
    value: object = None
    reject: RejectReason | None = None
    # where the parsed value's text is in the source's text (not part of what it is)
    span: tuple[int, int] = field(default=(0, 0), compare=False)


@dataclass(frozen=True, slots=True)
class Text:
    """A source's decoded text. Bytes that are not UTF-8 are kept as lone surrogates."""

    text: str
    bad_utf8: bool = False
    truncated: bool = False  # the decompressor stopped before the end of the stream


_FEED = 1 << 16  # input fed per call: keeps each member's `unused_data` copy small


def _decompressor(compression: str) -> Any:
    if compression == "gzip":
        return zlib.decompressobj(wbits=47)  # 32 + 15: expect a gzip header, largest window
    return zstandard.ZstdDecompressor().decompressobj()


def _decompress_stream(data: bytes, compression: str) -> tuple[bytes, bool]:
    """Every gzip member / zstd frame one after another; zero padding between them skipped."""
    out: list[bytes] = []
    worker, started = _decompressor(compression), False
    for pos in range(0, len(data), _FEED):
        chunk = data[pos : pos + _FEED]
        while chunk:
            if not started:
                chunk = chunk.lstrip(b"\0")
                if not chunk:
                    break
                started = True
            try:
                out.append(worker.decompress(chunk))
            except (zlib.error, zstandard.ZstdError):
                return b"".join(out), True
            if not worker.eof:
                break
            chunk = worker.unused_data
            worker, started = _decompressor(compression), False
    return b"".join(out), started


def _decompress_framed(data: bytes) -> tuple[bytes, bool]:
    """The Collector file exporter's legacy compressed JSON, one document a line."""
    stream, out = LengthPrefixedZstd(io.BytesIO(data)), []
    try:
        while block := stream.read1():
            out.append(block)
    except EOFError:
        return b"".join(out), True
    return b"".join(out), False


def decompress(data: bytes, compression: str) -> tuple[bytes, bool]:
    """All that can be decompressed and whether the stream was cut or corrupt.

    ``compression`` is ``"gzip"``, ``"zstd"`` or ``"zstd-framed"`` (see
    :func:`auditor.inputs.sniff_compression`).
    """
    if compression == "zstd-framed":
        return _decompress_framed(data)
    return _decompress_stream(data, compression)


def read_text(source: Source) -> Text:
    """All of a source's text; a cut or corrupt compressed stream keeps what came out of it."""
    if source.path is None:
        data = source.open().read()  # stdin that was not spooled: not ours to close
    else:
        try:
            data = source.path.read_bytes()
        except OSError as exc:
            raise InputError(f"cannot read {source.name}: {exc.strerror or exc}") from None
    truncated = False
    if source.compression is not None:
        data, truncated = decompress(data, source.compression)
    return decode_bytes(data, truncated=truncated)


def decode_bytes(data: bytes, truncated: bool = False) -> Text:
    """Decode UTF-8 (a leading BOM dropped); invalid bytes become surrogates, flagged."""
    try:
        text, bad = data.decode("utf-8"), False
    except UnicodeDecodeError:
        text, bad = data.decode("utf-8", "surrogateescape"), True
    return Text(text.removeprefix("\ufeff"), bad, truncated)


class _Cursor:
    """Position and 1-based line number in a text, advanced together."""

    __slots__ = ("line", "pos", "text")

    def __init__(self, text: str) -> None:
        self.text, self.pos, self.line = text, 0, 1

    def move(self, pos: int) -> None:
        self.line += self.text.count("\n", self.pos, pos)
        self.pos = pos

    def skip_whitespace(self) -> None:
        match = _WHITESPACE.match(self.text, self.pos)
        assert match is not None  # the pattern matches the empty string
        self.move(match.end())

    def line_end(self) -> int:
        end = self.text.find("\n", self.pos)
        return len(self.text) if end < 0 else end

    def resync(self, error_pos: int) -> int:
        """Where a document that failed at ``error_pos`` is taken to end (see `_may_span`)."""
        text, eol = self.text, self.line_end()
        if error_pos <= eol:
            return eol
        found = _NEXT_DOCUMENT.search(text, eol)
        end = len(text) if found is None else found.start()
        return end if _may_span(text, self.pos, eol, end) else eol


def _opens_pretty_document(text: str, pos: int, eol: int) -> bool:
    return text[pos:eol].strip() in ("{", "[")


def _may_span(text: str, pos: int, eol: int, end: int) -> bool:
    """Whether a value starting at ``pos`` (first line ending at ``eol``) may run to ``end``.

    Pretty printers (json.dumps, Go's MarshalIndent, gcloud, jq, Jackson) open a
    document with a line holding only ``{`` or ``[``; a hand-formatted document
    may run over lines when it is the whole input. Otherwise a value is one line:
    bad JSON lines must never join into one value or one rejected record.
    """
    if _opens_pretty_document(text, pos, eol):
        return True
    return not text[:pos].strip() and not text[end:].strip()


def _decode(cursor: _Cursor) -> tuple[object, int] | int:
    """The value at the cursor and its end, or the error position.

    A value may span lines only as `_may_span` allows.
    """
    text, pos = cursor.text, cursor.pos
    eol = cursor.line_end()
    try:
        return orjson.loads(text[pos:eol]), eol
    except orjson.JSONDecodeError:
        pass
    try:
        value, end = _raw_decode(text, pos)
    except json.JSONDecodeError as exc:
        return exc.pos
    except RecursionError:  # nested deeper than Python's decoder goes (orjson's limit: 1024)
        return eol
    if end > eol and not _may_span(text, pos, eol, end):
        return eol
    if end < eol and not ends_value(text, end, eol, value):
        return eol  # `2026-11-24 INFO ...` is one bad line, not the number 2026 and more
    return value, end


def ends_value(text: str, end: int, eol: int, value: object) -> bool:
    """Whether a value that ends at ``end``, before its line does, is a document of its
    own: nothing but whitespace follows on its line, or it is an object or array that
    another one follows (documents written one after another without a newline)."""
    rest = text[end:eol].lstrip(" \t\r")
    return not rest or (isinstance(value, dict | list) and rest[0] in "{[")


def _raw_decode(text: str, pos: int) -> tuple[object, int]:
    """Python's decoder from ``pos`` (lenient where orjson is not), a lone surrogate escape
    read as Polars reads it: Python's own reading of one cannot become a Polars string."""
    value, end = _DECODER.raw_decode(text, pos)
    if "\\u" in (found := text[pos:end]) and (mended := lone_surrogates_replaced(found)) != found:
        value = _DECODER.decode(mended)
    return value, end


def _document(text: Text, line: int, start: int, end: int, value: object) -> Document:
    if text.bad_utf8 and _SURROGATE.search(text.text, start, end):
        return Document(line, reject=RejectReason.INVALID_UTF8)
    return Document(line, value, span=(start, end))


def _failed(text: Text, cursor: _Cursor, error_pos: int) -> Document:
    end = cursor.resync(error_pos)
    reason = RejectReason.INVALID_JSON
    if text.bad_utf8 and _SURROGATE.search(text.text, cursor.pos, end):
        reason = RejectReason.INVALID_UTF8
    document = Document(cursor.line, reject=reason)
    cursor.move(end)
    return document


def _failed_element(text: Text, cursor: _Cursor) -> Document:
    """One broken array element: the rest of its line, or for a pretty-printed element
    (a line holding only ``{``/``[``) up to the next one opened at the same indentation."""
    source = text.text
    eol = cursor.line_end()
    if _opens_pretty_document(source, cursor.pos, eol):
        column = cursor.pos - (source.rfind("\n", 0, cursor.pos) + 1)
        following = re.compile("\n" + " " * column + "(?=[\\[{])")
        found = following.search(source, eol)
        end = len(source) if found is None else found.start() + 1
    else:
        end = eol
    reason = RejectReason.INVALID_JSON
    if text.bad_utf8 and _SURROGATE.search(source, cursor.pos, end):
        reason = RejectReason.INVALID_UTF8
    document = Document(cursor.line, reject=reason)
    cursor.move(end)
    return document


def _array_elements(text: Text, cursor: _Cursor) -> Iterator[Document]:
    """Elements of the array at the cursor, each at the line where it starts.

    A broken element is one record (see `_failed_element`); reading resumes after it.
    """
    cursor.move(cursor.pos + 1)
    source = text.text
    expect_value = True
    while True:
        cursor.skip_whitespace()
        if cursor.pos >= len(source):
            yield Document(cursor.line, reject=RejectReason.INVALID_JSON)  # no closing ]
            return
        char = source[cursor.pos]
        if char == "]":
            cursor.move(cursor.pos + 1)
            return
        if char == "," and not expect_value:
            cursor.move(cursor.pos + 1)
            expect_value = True
            continue
        if expect_value:
            try:
                value, end = _raw_decode(source, cursor.pos)
            except (json.JSONDecodeError, RecursionError):
                pass
            else:
                # `2024-05-06 x,` is one broken element, not the number 2024 and more
                if isinstance(value, dict | list) or _NEXT_ELEMENT.match(source, end):
                    line, start = cursor.line, cursor.pos
                    cursor.move(end)
                    yield _document(text, line, start, end, value)
                    expect_value = False
                    continue
        start = cursor.pos
        yield _failed_element(text, cursor)  # a broken element, or two without a comma
        if cursor.pos >= len(source) or source[start : cursor.pos].rstrip().endswith("]"):
            return  # the input ended, or the array's own `]` went with the broken element
        expect_value = True


def iter_documents(text: Text, explode_arrays: bool = False) -> Iterator[Document]:
    """Every JSON document of the text in order, each with the line it starts on.

    With ``explode_arrays``, a top-level array yields its elements instead. A cut
    compressed stream that ends cleanly still yields one `invalid_json` document
    at the end, so that the truncation is counted.
    """
    cursor = _Cursor(text.text)
    size = len(text.text)
    last_failed_at_end = False
    while True:
        cursor.skip_whitespace()
        if cursor.pos >= size:
            break
        if explode_arrays and text.text[cursor.pos] == "[":
            for document in _array_elements(text, cursor):
                last_failed_at_end = document.reject is not None and cursor.pos >= size
                yield document
            continue
        line, start = cursor.line, cursor.pos
        decoded = _decode(cursor)
        if isinstance(decoded, int):
            document = _failed(text, cursor, decoded)
        else:
            value, end = decoded
            cursor.move(end)
            document = _document(text, line, start, end, value)
        last_failed_at_end = document.reject is not None and cursor.pos >= size
        yield document
    if text.truncated and not last_failed_at_end:
        yield Document(cursor.line, reject=RejectReason.INVALID_JSON)


#: Adds the records of one parsed document (or array element) found at ``(source, line)``.
AddDocument = Callable[[RecordBuilder, tuple[str, int], object], None]


def scan_documents(
    sources: Sequence[Source],
    options: ReadOptions,
    add_document: AddDocument,
    explode_arrays: bool = False,
) -> pl.LazyFrame:
    """The record frame of sources read document by document with ``add_document``."""
    builder = RecordBuilder(options)
    with _few_collections():
        for source in sources:
            _read_source(builder, source, add_document, explode_arrays)
    return builder.frame()


class _FewCollections:
    """The cyclic garbage collector run rarely while documents are parsed: they make
    millions of dicts and lists, none of them in a cycle, and each collection walks them
    all (2 of 15 s for a million OTLP spans); reference counting still frees them at once.
    The threshold is process-wide: the first reader in raises it, the last one out puts
    back what was there (a collector turned off stays off)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._readers = 0
        self._before: tuple[int, int, int] = gc.get_threshold()

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._readers == 0:
                self._before = gc.get_threshold()
                first, *rest = self._before
                if first:
                    gc.set_threshold(max(first, 100_000), *rest)
            self._readers += 1
        try:
            yield
        finally:
            with self._lock:
                self._readers -= 1
                if self._readers == 0:
                    gc.set_threshold(*self._before)


_few_collections = _FewCollections()


def _read_source(
    builder: RecordBuilder, source: Source, add_document: AddDocument, explode_arrays: bool
) -> None:
    text = read_text(source)
    for document in iter_documents(text, explode_arrays=explode_arrays):
        where = (source.name, document.line)
        if document.reject is not None:
            builder.reject(*where, document.reject)
        else:
            add_document(builder, where, document.value)
    # the progress bar counts bytes on disk: a source is done when its documents are
    progress.advance(source.path.stat().st_size if source.path else len(text.text))
