"""Every registered command has help text with an example (as sqlite-utils' test_docs does)."""

from __future__ import annotations

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from quality_cli.main import app

runner = CliRunner()


def _commands(group, prefix=()):
    for name, command in sorted(group.commands.items()):
        path = (*prefix, name)
        if hasattr(command, "commands"):
            yield from _commands(command, path)
        else:
            yield path, command


COMMANDS = list(_commands(get_command(app)))


def test_the_documented_commands_are_registered():
    names = {" ".join(path) for path, _ in COMMANDS}
    expected = {
        "chat",
        "thread new",
        "thread switch",
        "thread list",
        "thread show",
        "alerts subscribe",
        "alerts unsubscribe",
        "alerts list",
        "metrics",
        "report",
        "validate",
        "serve",
        "token",
    }
    assert expected <= names


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_command_has_help_with_an_example(path, command):
    assert command.help and command.help.strip(), f"{' '.join(path)} has no help"
    assert "Example:" in command.help, f"{' '.join(path)} help has no 'Example:'"
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example:" in result.output
    assert "<bool>" not in result.output  # a flag takes no value: `--json false` is an error


def test_root_help_lists_global_options():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for option in ("--home", "--user", "--strategy"):
        assert option in result.output
    assert "<bool>" not in result.output
    assert "<path>" in result.output  # options that take a value keep their type


def test_unknown_strategy_is_a_one_line_error(tmp_path):
    result = runner.invoke(app, ["--home", str(tmp_path), "--strategy", "bogus", "metrics"])
    assert result.exit_code == 2
    assert (
        result.stderr
        == "error: unknown strategy 'bogus'; use one of resume, mint, default-session\n"
    )


def test_format_help_names_every_reader_format():
    """`--format`'s help is written out (the CLI does not import the readers, and Polars,
    to start): it must name every format the readers know, in their order."""
    import re

    from auditor.readers import FORMATS

    for command in ("audit", "compare"):
        params = get_command(app).commands[command].params  # type: ignore[attr-defined]
        (option,) = [p for p in params if "--format" in p.opts]
        named = re.sub(r" \([^)]*\)", "", option.help).rstrip(".")
        assert re.split(r", | or ", named) == list(FORMATS)
