"""The WebSocket endpoint: authenticated connections, one session each, messages to the router.

Connect to ``ws://HOST:PORT/ws`` with ``Authorization: Bearer <token>`` (or
``?token=``); add ``?session_id=`` to resume a session after a reconnect (only
the user's own). The server first sends ``session_ready`` with the session and
its current thread/run, then one reply per inbound message, in order, plus
server-initiated ``quality_update`` / ``quality_alert`` messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from handlers.app import QualityApp
from handlers.auth import AuthError, verify_token
from handlers.config import Strategy
from handlers.context import Caller
from handlers.errors import HandlerError
from handlers.protocol import MAX_MESSAGE_BYTES, reply

_log = logging.getLogger(__name__)
PATH = "/ws"
FLUSH_INTERVAL_S = 0.5


def _query(request: Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(request.path).query).items()}


def _token(request: Request) -> str | None:
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return _query(request).get("token")


class QualityServer:
    """Serves one `QualityApp` over WebSocket."""

    def __init__(self, app: QualityApp, secret: bytes) -> None:
        self.app = app
        self._secret = secret

    def _authenticate(self, connection: ServerConnection, request: Request) -> Response | None:
        if urlsplit(request.path).path != PATH:
            return connection.respond(HTTPStatus.NOT_FOUND, f"the endpoint is {PATH}\n")
        token = _token(request)
        if token is None:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "missing bearer token\n")
        try:
            # websockets' own place for who authenticated (its basic_auth sets it too): it
            # goes with the connection, also when the handshake fails after this
            connection.username = verify_token(self._secret, token)
        except AuthError as exc:
            return connection.respond(HTTPStatus.UNAUTHORIZED, f"{exc.message}\n")
        return None

    async def _session(self, connection: ServerConnection) -> None:
        user = connection.username
        requested = _query(connection.request).get("session_id") if connection.request else None
        try:
            caller = self.app.sessions.open_session(user, requested)
        except HandlerError as exc:
            await connection.close(4404, exc.message)
            return
        send = _sender(connection)
        self.app.manager.connect(caller, send)
        try:
            await send(self._ready(caller))
            async for raw in connection:
                await self.app.handle(caller, raw, send)
        except ConnectionClosed:
            pass
        finally:
            self.app.manager.disconnect(caller, send)

    def _ready(self, caller: Caller) -> dict[str, Any]:
        ctx = self.app.sessions.current(caller, Strategy.RESUME)
        return reply(
            "session_ready",
            ctx.thread_id,
            ctx.run_id,
            "",
            {"session_id": caller.session_id, "user_id": caller.user_id},
        )

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL_S)
            self.app.store.flush()
            if self.app.telemetry.log_handler is not None:
                self.app.telemetry.log_handler.flush()

    async def run(
        self,
        host: str,
        port: int,
        started: Callable[[Server], Awaitable[None] | None] | None = None,
    ) -> None:
        """Serve until cancelled; ``started`` is called with the listening server (port 0 = any)."""
        flusher = asyncio.create_task(self._flush_periodically())
        try:
            async with serve(
                self._session,
                host,
                port,
                process_request=self._authenticate,
                # Oversized messages up to 4x the limit get an `error` reply; beyond that the socket closes (1009).
                max_size=4 * MAX_MESSAGE_BYTES,
            ) as server:
                if started is not None:
                    result = started(server)
                    if asyncio.iscoroutine(result):
                        await result
                await server.serve_forever()
        finally:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            self.app.store.flush()


def _sender(connection: ServerConnection) -> Callable[[dict[str, Any]], Awaitable[None]]:
    async def send(message: dict[str, Any]) -> None:
        await connection.send(orjson.dumps(message).decode())

    return send
