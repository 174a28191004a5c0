"""The handlers' exception family. Each carries a stable ``code`` for `error` replies."""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any


class HandlerError(Exception):
    """Base of every error the handlers raise on purpose. ``code`` goes into the reply."""

    code = "internal_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        """The human message, without the code."""
        return str(self.args[0]) if self.args else self.code


class MalformedMessage(HandlerError):
    """The inbound message is not a valid protocol message (bad JSON, missing type, bad field).

    ``message_type`` is its ``type`` when that was read before the error (else None), and
    ``payload`` its payload when that was an object (an unsubscribe is its own event).
    """

    message_type: str | None = None
    payload: Mapping[str, Any] = MappingProxyType({})

    code = "invalid_payload"  # a field of the right type with a value out of range, by default


class UnknownMessageType(HandlerError):
    """The inbound ``type`` is not part of the protocol."""

    code = "unknown_message_type"


class ThreadNotFound(HandlerError):
    """The client named a thread that does not exist or belongs to another user."""

    code = "thread_not_found"


class RunNotFound(HandlerError):
    """The client named a run that is not a run of the resolved thread."""

    code = "run_not_found"


class ConfigError(HandlerError):
    """Invalid configuration (strategy name, home directory, TTL)."""

    code = "config_error"
