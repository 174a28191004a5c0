"""One place that turns domain errors into `error: <message>` on stderr and exit code 2."""

from __future__ import annotations

import contextlib
import signal
import sqlite3
import sys
import traceback
from typing import Any, NoReturn

import typer
from typer import _click
from typer.core import TyperGroup

from auditor.errors import AuditError
from handlers.errors import HandlerError

#: Exceptions whose message is meant for the user: printed as one line, exit 2.
USER_ERRORS: tuple[type[BaseException], ...] = (AuditError, HandlerError)

EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_CANCELLED = 130


def _debug_requested(ctx: _click.Context) -> bool:
    obj = ctx.find_root().obj
    return bool(getattr(obj, "debug", False)) or "--debug" in sys.argv


def _one_line(text: str) -> str:
    return " ".join(text.split())


#: Options that take several inputs after one flag (`compare --before a b --after c d`).
_MANY_INPUTS = ("--before", "--after")


def spread_inputs(argv: list[str]) -> list[str]:
    """``--before a b --after c`` as click reads repeated options: ``--before a --before b
    --after c`` (DESIGN.md writes `compare --before PATH... --after PATH...`, and a shell
    expands `--before old/*.jsonl` so). The inputs after a flag end at the next option;
    ``-`` (stdin) is an input; ``--`` ends option parsing and is kept as it is."""
    out: list[str] = []
    flag: str | None = None  # the flag whose inputs are being read
    for n, token in enumerate(argv):
        if token == "--":
            return out + argv[n:]
        if token in _MANY_INPUTS:
            flag = token
            out.append(token)
            continue
        name, equals, _ = token.partition("=")
        if equals and name in _MANY_INPUTS:  # `--before=a b`: a is the flag's first input
            flag = name
            out.append(token)
            continue
        if flag is not None and (token == "-" or not token.startswith("-")):
            if out and out[-1] == flag:
                out.append(token)  # the flag's first input
            else:
                out += [flag, token]
            continue
        flag = None
        out.append(token)
    return out


def _interrupted(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _stop_on_sigterm_as_on_ctrl_c() -> None:
    """SIGTERM (what `timeout`, systemd, Kubernetes and CI send) stops a command as Ctrl-C
    does: temporary spill and spool files removed, `cancelled`, exit 130; by default it
    killed the process and left gigabytes under TMPDIR. `serve` installs its own."""
    with contextlib.suppress(ValueError):  # not the main thread (a test runner's)
        if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _interrupted)


def _refuse(ctx: _click.Context, message: str) -> NoReturn:
    """A user error: one line on stderr and exit 2; with ``--debug`` the traceback first
    (the exit code stays 2: a CI job run with --debug still tells bad input from a failed
    check)."""
    if _debug_requested(ctx):
        traceback.print_exc()
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(EXIT_USAGE) from None


class QualityGroup(TyperGroup):
    """Root group: maps user errors to one line and exit 2, Ctrl-C to `cancelled`."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Usage errors (an unknown option, a bad value, a missing argument) as one line, exit
        2, instead of click's boxed usage text; the rest as click does it."""
        argv = kwargs.pop("args", args[0] if args else None)
        kwargs["args"] = spread_inputs(sys.argv[1:] if argv is None else list(argv))
        args = args[1:]
        kwargs["standalone_mode"] = False
        _stop_on_sigterm_as_on_ctrl_c()
        try:
            code = super().main(*args, **kwargs)
        except _click.exceptions.NoArgsIsHelpError as exc:  # `quality thread`: which command?
            path = exc.ctx.command_path if exc.ctx else "quality"
            typer.echo(f"error: missing command (see '{path} --help')", err=True)
            sys.exit(EXIT_USAGE)
        except _click.exceptions.ClickException as exc:
            ctx: _click.Context | None = getattr(exc, "ctx", None)
            where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
            typer.echo(f"error: {_one_line(exc.format_message())}{where}", err=True)
            sys.exit(EXIT_USAGE)
        except typer.Abort:
            typer.echo("cancelled", err=True)
            sys.exit(EXIT_CANCELLED)
        # without standalone mode click returns the command's value, or the code of an exit
        sys.exit(code if isinstance(code, int) else EXIT_OK)

    def invoke(self, ctx: _click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            _refuse(ctx, str(exc))
        except OSError as exc:
            where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
            _refuse(ctx, f"{where}{exc.strerror or exc}")
        except sqlite3.Error as exc:  # a corrupt or read-only quality.db
            _refuse(ctx, f"the store (quality.db under the home) cannot be used: {exc}")
        except KeyboardInterrupt:
            typer.echo("cancelled", err=True)
            raise typer.Exit(EXIT_CANCELLED) from None
