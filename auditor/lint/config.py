"""Settings of the static checker: defaults, the `[tool.quality.lint]` section, `--select`/`--ignore`.

Name patterns are shell-style (`fnmatch`, case-sensitive). A pattern without a dot matches
the last segment of a dotted name (`uuid4` matches `uuid.uuid4()`); a pattern with a dot
matches the whole dotted name (`ids.new` matches `ids.new()` only).
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from auditor.errors import LintError
from auditor.lint.rules import SELECTABLE, Code

SECTION = "[tool.quality.lint]"


def _t(*items: str) -> tuple[str, ...]:
    return items


@dataclass(frozen=True, slots=True)
class LintConfig:
    """Everything the rules need to know about a codebase's names. Field names are the
    config keys with `-` for `_` (`new-thread-functions`)."""

    # `generate_*id*` would also match `generate_video`: ID words are matched whole.
    generators: tuple[str, ...] = _t(
        "generate_id", "generate_*_id", "generate_*_id_*", "generate_*uuid*",
        "new_*_id", "make_*_id", "mint_*_id", "mint_id",
        "uuid1", "uuid4", "uuid7", "token_hex", "token_urlsafe", "token_bytes", "ulid",
    )  # fmt: skip
    id_prefixes: tuple[str, ...] = _t("thread_", "run_", "thread-", "run-")
    getters: tuple[str, ...] = _t("get_*context*", "*_context", "*Context", "*session*")
    thread_names: tuple[str, ...] = _t("thread_id", "*_thread_id", "conversation_id")
    run_names: tuple[str, ...] = _t("run_id", "*_run_id")
    new_thread_functions: tuple[str, ...] = _t("*create_thread*", "*new_thread*", "*start_thread*")
    error_handlers: tuple[str, ...] = _t("*_error", "*_error_*", "on_error", "handle_error*")
    handler_methods: tuple[str, ...] = _t(
        "handle", "handle_*", "_handle_*", "on_message", "__call__", "dispatch", "process_message"
    )
    request_params: tuple[str, ...] = _t(
        "payload", "message", "msg", "request", "req", "data", "event", "body", "params", "*_id"
    )
    select: tuple[Code, ...] = SELECTABLE
    ignore: tuple[Code, ...] = ()
    exclude: tuple[str, ...] = _t(
        ".git", ".hg", ".venv", "venv", "__pycache__", "node_modules", "build", "dist",
        ".tox", ".nox", ".mypy_cache", ".ruff_cache", "site-packages",
    )  # fmt: skip
    source: Path | None = field(default=None, compare=False)

    @property
    def enabled(self) -> frozenset[Code]:
        """The rule codes that run: selected and not ignored."""
        return frozenset(self.select) - frozenset(self.ignore)

    def with_codes(self, select: str | None, ignore: str | None) -> LintConfig:
        """This config with `--select`/`--ignore` (comma-separated codes) replacing its own:
        the rules `--select` names run, whatever the config ignores (unless `--ignore` says
        otherwise too). An empty `--select` is an error: it would check nothing and pass."""
        changes: dict[str, Any] = {}
        if select is not None:
            changes["select"] = parse_codes(select.split(","), "--select")
            if not changes["select"]:
                raise LintError("--select names no rule code; give one, such as QC001")
            changes["ignore"] = ()
        if ignore is not None:
            changes["ignore"] = parse_codes(ignore.split(","), "--ignore")
        return replace(self, **changes)


def matches(name: str, patterns: Iterable[str]) -> bool:
    """True when the dotted `name` matches one of `patterns` (see the module docstring)."""
    last = name.rpartition(".")[2]
    return any(fnmatchcase(name if "." in p else last, p) for p in patterns)


def parse_codes(values: Iterable[str], where: str) -> tuple[Code, ...]:
    """Rule codes from user input; `QC` alone or a prefix such as `QC00` selects every rule."""
    codes: list[Code] = []
    for raw in values:
        value = raw.strip().upper()
        if not value:
            continue
        hits = [code for code in SELECTABLE if code.value.startswith(value)]
        if not hits:
            known = ", ".join(code.value for code in SELECTABLE)
            raise LintError(f"unknown rule code {raw.strip()!r} in {where}; known codes: {known}")
        codes.extend(code for code in hits if code not in codes)
    return tuple(codes)


_KEYS = {f.name.replace("_", "-"): f.name for f in fields(LintConfig) if f.name != "source"}
_EXTENDABLE = ("generators", "getters", "exclude", "id-prefixes", "thread-names", "run-names")


def _string_list(value: object, key: str, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise LintError(f"{key} in {where} must be a list of strings, got {value!r}")
    return tuple(value)


def config_from_mapping(section: Mapping[str, Any], where: str) -> LintConfig:
    """A `LintConfig` from a parsed `[tool.quality.lint]` table; unknown keys are an error."""
    config = LintConfig()
    changes: dict[str, Any] = {}
    for key, value in section.items():
        if key.startswith("extend-") and key[7:] in _EXTENDABLE:
            attr = _KEYS[key[7:]]
            current = changes.get(attr, getattr(config, attr))
            changes[attr] = current + _string_list(value, key, where)
        elif key in ("select", "ignore"):
            changes[key] = parse_codes(_string_list(value, key, where), f"{key} of {where}")
        elif key in _KEYS:
            changes[_KEYS[key]] = _string_list(value, key, where)
        else:
            known = ", ".join(sorted([*_KEYS, *(f"extend-{k}" for k in _EXTENDABLE)]))
            raise LintError(f"unknown key {key!r} in {where}; known keys: {known}")
    return replace(config, **changes)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise LintError(f"cannot parse {path}: {exc}; fix the TOML syntax") from None
    except OSError as exc:
        raise LintError(f"cannot read config file {path}: {exc.strerror or exc}") from None


def _lint_section(data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    tool = data.get("tool")
    quality = tool.get("quality") if isinstance(tool, Mapping) else None
    section = quality.get("lint") if isinstance(quality, Mapping) else None
    return section if isinstance(section, Mapping) else None


def find_pyproject(start: Path) -> Path | None:
    """The nearest `pyproject.toml` at or above `start` that has a `[tool.quality.lint]` section."""
    here = start.resolve()
    for directory in (here, *here.parents) if here.is_dir() else here.parents:
        candidate = directory / "pyproject.toml"
        if candidate.is_file() and _lint_section(_read_toml(candidate)) is not None:
            return candidate
    return None


def load_config(paths: Sequence[str], config_file: str | None = None) -> LintConfig:
    """The config for linting `paths`: `config_file` when given (a pyproject.toml or a TOML
    file holding the section's keys at top level), else the nearest pyproject.toml with a
    `[tool.quality.lint]` section above the first path, else the defaults."""
    if config_file is not None:
        path = Path(config_file)
        if path.is_dir():
            raise LintError(f"config file {config_file} is a directory; name a TOML file")
        if not path.is_file():
            raise LintError(f"config file not found: {config_file}")
        data = _read_toml(path)
        section = _lint_section(data)
        if section is None and "tool" in data:
            raise LintError(f"{config_file} has no {SECTION} section; add one or pass another file")
        where = f"{SECTION} of {config_file}" if section is not None else config_file
        return replace(config_from_mapping(section or data, where), source=path)
    found = find_pyproject(Path(paths[0]) if paths else Path.cwd())
    if found is None:
        return LintConfig()
    section = _lint_section(_read_toml(found)) or {}
    return replace(config_from_mapping(section, f"{SECTION} of {found}"), source=found)
