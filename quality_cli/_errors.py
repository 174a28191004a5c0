"""One place that turns domain errors into `error: <message>` on stderr and exit code 2."""

from __future__ import annotations

import sys
from typing import Any

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


class QualityGroup(TyperGroup):
    """Root group: maps user errors to one line and exit 2, Ctrl-C to `cancelled`."""

    def invoke(self, ctx: _click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            if _debug_requested(ctx):
                raise
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(EXIT_USAGE) from None
        except OSError as exc:
            if _debug_requested(ctx):
                raise
            where = f" {exc.filename}" if getattr(exc, "filename", None) else ""
            typer.echo(f"error:{where} {exc.strerror or exc}", err=True)
            raise typer.Exit(EXIT_USAGE) from None
        except KeyboardInterrupt:
            typer.echo("cancelled", err=True)
            raise typer.Exit(EXIT_CANCELLED) from None
