"""The auditor's exception family. The CLI maps these to `error: <message>` and exit 2."""


class AuditError(Exception):
    """Base of every error the auditor raises on purpose; the message says what to do."""


class InputError(AuditError):
    """An input cannot be used at all: a missing or unreadable path, an unknown format."""


class UsageError(AuditError):
    """Options that contradict each other or cannot be parsed (`--map`, `--extract`, `--split-at`)."""


class LintError(AuditError):
    """The static checker cannot run: a bad `[tool.quality.lint]` section or an unknown rule code."""
