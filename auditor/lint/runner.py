"""Files and directories in, findings out: discovery, parsing, `# noqa`, `--fix`/`--diff`."""

from __future__ import annotations

import ast
import codecs
import difflib
import io
import os
import re
import tokenize
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import partial
from pathlib import Path

import libcst as cst
from libcst.metadata import MetadataWrapper

from auditor.errors import InputError
from auditor.lint.analysis import analyze_module
from auditor.lint.config import LintConfig
from auditor.lint.fix import apply_fixes
from auditor.lint.rules import Code, Finding

_ERROR_AT = re.compile(r"\berror at (\d+):(\d+)")
_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.I)


@dataclass(frozen=True, slots=True)
class FileResult:
    """One file: findings left after fixing (if asked), fixes applied, and the diff."""

    path: str
    findings: tuple[Finding, ...]
    fixed: int = 0
    diff: bytes = b""  # in the file's own encoding (`patch` applies it to its bytes)


@dataclass(frozen=True, slots=True)
class LintReport:
    """A whole run: every finding in file order, and what `--fix`/`--diff` did."""

    files: int
    findings: tuple[Finding, ...]
    fixed: int
    diffs: tuple[bytes, ...]

    @property
    def fixable(self) -> int:
        """Findings that `--fix` would rewrite."""
        return sum(1 for f in self.findings if f.fixable)


def discover(paths: Sequence[str], config: LintConfig) -> list[tuple[str, Path]]:
    """`(display name, path)` of every Python file under `paths`, in a stable order.
    A file named on the command line is linted whatever its suffix; directories yield their
    `*.py` files outside the excluded directories. Raises `InputError` for a missing path."""
    found: list[tuple[str, Path]] = []
    for arg in paths:
        path = Path(arg)
        if path.is_file():
            found.append((arg, path))
        elif path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not _excluded(d, config))
                found.extend(
                    (os.path.normpath(os.path.join(root, name)), Path(root, name))
                    for name in sorted(files)
                    if name.endswith(".py") and not _excluded(name, config)
                )
        elif path.exists():  # /dev/null, a FIFO: nothing to parse
            raise InputError(f"cannot lint {arg}: not a file or a directory")
        else:
            raise InputError(f"no such file or directory: {arg}")
    if not found:  # a CI gate pointed at the wrong directory must not pass
        named = ", ".join(paths)
        raise InputError(f"no Python files to lint in {named} (excluded directories skipped)")
    unique: dict[Path, tuple[str, Path]] = {}
    for name, path in found:
        unique.setdefault(path.resolve(), (name, path))  # a file named twice is linted once
    return list(unique.values())


def _excluded(name: str, config: LintConfig) -> bool:
    return any(fnmatchcase(name, pattern) for pattern in config.exclude)


def lint_paths(
    paths: Sequence[str],
    config: LintConfig,
    *,
    fix: bool = False,
    diff: bool = False,
    jobs: int | None = None,
) -> LintReport:
    """Lint every file under `paths`. With `fix`, write QC001 fixes back; with `diff`, also
    return unified diffs of them (`diff` alone computes the fixes without writing).
    `jobs` worker processes share the files (default: one per CPU, for large trees only)."""
    files = discover(paths, config)
    workers = min(jobs or os.cpu_count() or 1, len(files) // _FILES_PER_WORKER)
    check = partial(_lint_one, config=config, fix=fix, diff=diff)
    if workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(check, files, chunksize=_CHUNK))
    else:
        results = [check(item) for item in files]
    return LintReport(
        files=len(results),
        findings=tuple(f for r in results for f in r.findings),
        fixed=sum(r.fixed for r in results),
        diffs=tuple(r.diff for r in results if r.diff),
    )


#: Below this many files per worker, starting processes costs more than it saves.
_FILES_PER_WORKER = 100
_CHUNK = 25


def _lint_one(item: tuple[str, Path], *, config: LintConfig, fix: bool, diff: bool) -> FileResult:
    return lint_file(item[0], item[1], config, fix=fix, diff=diff)


def lint_file(
    name: str, path: Path, config: LintConfig, *, fix: bool = False, diff: bool = False
) -> FileResult:
    """Lint one file; a file that cannot be read, decoded or parsed is one QC000 finding."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        return FileResult(name, (_unreadable(name, f"cannot read file: {exc.strerror or exc}"),))
    result = lint_source(data, name, config, fix=fix or diff)
    changed = result.new_source != data
    if changed and fix:
        path.write_bytes(result.new_source)
    text = (
        _unified_diff(name, data, result.new_source, result.encoding) if changed and diff else b""
    )
    if changed and not fix:
        return FileResult(name, result.before_fix, 0, text)  # --diff alone writes nothing
    return FileResult(name, result.findings, result.fixed, text)


@dataclass(frozen=True, slots=True)
class SourceResult:
    """`lint_source`'s answer: findings (after fixes when fixing) and the fixed bytes."""

    findings: tuple[Finding, ...]
    new_source: bytes
    fixed: int = 0
    encoding: str = "utf-8"
    before_fix: tuple[Finding, ...] = ()


def lint_source(
    data: bytes | str, name: str, config: LintConfig, *, fix: bool = False
) -> SourceResult:
    """Lint one module's source; with `fix`, apply the certain QC001 fixes and lint again."""
    raw = data.encode() if isinstance(data, str) else data
    try:
        module = cst.parse_module(raw)
    except cst.ParserSyntaxError as exc:
        said, line, column = _syntax_error(raw, exc)
        message = f"syntax error: {said}; the file was not checked"
        return SourceResult((_unreadable(name, message, line, column),), raw)
    except (UnicodeDecodeError, LookupError, SyntaxError) as exc:
        return SourceResult(
            (_unreadable(name, f"cannot decode: {exc}; the file was not checked"),), raw
        )
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    try:
        analysis = analyze_module(wrapper, name, config)
    except RecursionError:
        return SourceResult(
            (_unreadable(name, "too deeply nested to check; the file was not checked"),), raw
        )
    except Exception as exc:  # a checker bug must not stop the run or hide the file
        if (interrupt := _interrupt_behind(exc)) is not None:
            raise interrupt from None
        message = f"internal error while checking ({type(exc).__name__}: {exc}); please report it"
        return SourceResult((_unreadable(name, message),), raw)
    lines = source_lines(raw.decode(module.encoding)) if analysis.findings else []
    findings = tuple(f for f in analysis.findings if not _suppressed(f, lines))
    plans = [p for f in findings if f.code is Code.QC001 for p in analysis.fixes.get(f, ())]
    if not fix or not plans:
        return SourceResult(findings, raw, encoding=module.encoding)
    fixed_module = apply_fixes(wrapper, plans)
    new_source = fixed_module.bytes
    after = lint_source(new_source, name, config, fix=False)
    fixed = sum(1 for f in findings if f.fixable) - sum(1 for f in after.findings if f.fixable)
    return SourceResult(after.findings, new_source, max(fixed, 0), module.encoding, findings)


def _suppressed(finding: Finding, lines: Sequence[str]) -> bool:
    if finding.code is Code.QC000 or not 0 < finding.line <= len(lines):
        return False
    match = _NOQA.search(lines[finding.line - 1])
    if match is None:
        return False
    codes = match.group("codes")
    return codes is None or finding.code.value in re.split(r"[\s,]+", codes.upper())


def _interrupt_behind(exc: Exception) -> BaseException | None:
    """The Ctrl-C (or exit) an exception was raised while unwinding from: libcst's
    ``finally`` blocks raise a KeyError when a visit is interrupted, which must stop the
    run, not become a QC000 finding."""
    seen = exc.__context__
    while seen is not None:
        if not isinstance(seen, Exception):
            return seen
        seen = seen.__context__
    return None


def _syntax_error(raw: bytes, exc: cst.ParserSyntaxError) -> tuple[str, int, int]:
    """What the syntax error is and where, as Python's own parser (and so the user's editor)
    says; libcst's position is the statement's start, and its message's is 0-based and past
    the offending token. When Python accepts what libcst does not (a newer syntax), libcst's
    message and its position, made 1-based; else libcst's own."""
    try:
        # text, not bytes: Python counts a column of bytes in characters, as an editor does
        encoding = tokenize.detect_encoding(io.BytesIO(raw).readline)[0]
        compile(raw.decode(encoding), "<lint>", "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as error:
        if error.lineno is not None:
            return error.msg, error.lineno, max(error.offset or 1, 1)
    except (ValueError, LookupError, RecursionError, MemoryError):
        pass  # null bytes, an unknown coding, too deep: libcst's word below
    found = _ERROR_AT.search(exc.message)
    if found is None:
        return exc.message, exc.editor_line, exc.editor_column
    return exc.message, int(found.group(1)), int(found.group(2)) + 1


def _unreadable(name: str, message: str, line: int = 1, column: int = 1) -> Finding:
    return Finding(name, line, column, Code.QC000, message)


#: A line as Python (and libcst, whose line numbers findings carry) counts them: ended by
#: `\r\n`, `\r` or `\n` only (`str.splitlines` also splits at form feeds, U+2028...).
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_NO_NEWLINE = b"\n\\ No newline at end of file\n"


def source_lines(text: str, keepends: bool = False) -> list[str]:
    """The lines of a source text as Python numbers them."""
    found = _LINE.findall(text)
    return found if keepends else [line.rstrip("\r\n") for line in found]


def _unified_diff(name: str, before: bytes, after: bytes, encoding: str) -> bytes:
    """A unified diff that `patch -p0` applies: lines as Python counts them, each in the
    file's own encoding (a latin-1 file's bytes, a byte order mark kept), a last line
    without newline marked as diff marks it."""
    if codecs.lookup(encoding).name == "utf-8-sig":
        encoding = "utf-8"  # the mark is the first line's first character, as patch sees it
    old = source_lines(before.decode(encoding, errors="surrogateescape"), keepends=True)
    new = source_lines(after.decode(encoding, errors="surrogateescape"), keepends=True)
    out: list[bytes] = []
    for index, line in enumerate(difflib.unified_diff(old, new, fromfile=name, tofile=name)):
        header = index < 2 or line.startswith("@@ ")  # the file names, then each hunk's
        out.append(line.encode("utf-8" if header else encoding, errors="surrogateescape"))
        if not line.endswith(("\n", "\r")):
            out.append(_NO_NEWLINE)
    return b"".join(out)
