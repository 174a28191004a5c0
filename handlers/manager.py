"""The quality manager: alert subscriptions, live connections, and broadcasts to subscribers.

Subscriptions are per user (persisted in the store, optional score threshold).
A broadcast goes to every live session of the subscribed user, each in that
session's own context (DESIGN.md: under `resume` the session's active thread).
A user is only ever told about their own validations, so no broadcast carries
another user's thread, run or content.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from handlers import attributes as attr
from handlers.config import Strategy
from handlers.context import Caller
from handlers.ids import IdGenerator, new_id
from handlers.protocol import reply
from handlers.recording import EventRecorder, current_span
from handlers.scoring import ValidationResult
from handlers.sessions import SessionManager
from handlers.store import Subscription

Send = Callable[[dict[str, Any]], Awaitable[None]]

_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Connection:
    caller: Caller
    send: Send


class QualityManager:
    """Subscriptions and broadcasts. Connections are keyed by session, never by user alone."""

    def __init__(
        self,
        sessions: SessionManager,
        recorder: EventRecorder,
        strategy: Strategy,
        *,
        ids: IdGenerator = new_id,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._sessions = sessions
        self._store = sessions.store
        self._recorder = recorder
        self._strategy = strategy
        self._ids = ids
        self._clock = clock
        # per session, its open connections, newest last: broadcasts go to the newest
        self._connections: dict[str, list[Connection]] = {}
        self.delivery_failures = 0

    # -- connections ----------------------------------------------------------
    def connect(self, caller: Caller, send: Send) -> None:
        """Register a live connection of a session that can receive server-initiated messages
        (a reconnect to the same session becomes its newest)."""
        self._connections.setdefault(caller.session_id, []).append(Connection(caller, send))

    def disconnect(self, caller: Caller, send: Send | None = None) -> None:
        """Forget a session's connection ``send`` (every one of the session's without it). A
        client that reconnected keeps the new connection when the old one closes, and the
        old one, still open, is the session's again if the new one closes first."""
        kept = [
            c
            for c in self._connections.get(caller.session_id, [])
            if c.caller != caller or (send is not None and c.send is not send)
        ]
        if kept:
            self._connections[caller.session_id] = kept
        else:
            self._connections.pop(caller.session_id, None)

    def live_sessions(self, user_id: str) -> list[Connection]:
        """The newest open connection of each of the user's sessions."""
        return [c[-1] for c in self._connections.values() if c[-1].caller.user_id == user_id]

    # -- subscriptions --------------------------------------------------------
    def subscribe(self, user_id: str, threshold: float | None) -> Subscription:
        existing = self._store.get_subscription(user_id)
        created = existing.created_at if existing else self._clock()
        subscription = Subscription(user_id, threshold, created)
        self._store.save_subscription(subscription)
        return subscription

    def unsubscribe(self, user_id: str) -> bool:
        return self._store.delete_subscription(user_id)

    def subscription(self, user_id: str) -> Subscription | None:
        return self._store.get_subscription(user_id)

    # -- broadcasts -----------------------------------------------------------
    async def after_validation(
        self, user_id: str, result: ValidationResult, summary: dict[str, Any]
    ) -> int:
        """Tell the user's live sessions about a new validation; returns messages sent.

        Every subscriber session gets a `quality_update`; when the score is below
        the subscription's threshold it also gets a `quality_alert`.
        """
        subscription = self._store.get_subscription(user_id)
        if subscription is None:
            return 0
        targets = self.live_sessions(user_id)
        if not targets:
            return 0
        trigger = current_span()
        below = subscription.threshold is not None and result.score < subscription.threshold
        sent = 0
        for connection in targets:
            if sent and self._store.get_subscription(user_id) is None:
                break  # unsubscribed while earlier sends waited: nothing more is sent
            delivered = await self._deliver(
                connection, attr.BROADCAST_UPDATE, "quality_update", summary, trigger
            )
            sent += delivered
            # A connection found dead was just disconnected: do not try it again; nor a
            # user who unsubscribed while the update was being sent.
            if below and delivered and self._store.get_subscription(user_id) is not None:
                alert = {**summary, "threshold": subscription.threshold}
                sent += await self._deliver(
                    connection, attr.BROADCAST_ALERT, "quality_alert", alert, trigger
                )
        return sent

    async def _deliver(
        self, connection: Connection, event: str, kind: str, payload: dict[str, Any], trigger: Any
    ) -> int:
        request_id = self._ids("req")
        resolution = self._sessions.settle(connection.caller, self._strategy)
        for name, moved in resolution.transitions:
            # the receiving session's own event: a root, as the broadcast is (inside the
            # request's span it was a child of another session's request, with IDs)
            self._recorder.transition(name, moved, kind, request_id, broadcast_of=trigger)
        ctx = resolution.context
        with self._recorder.event(
            event, ctx, kind, request_id, root=True, link_from=trigger
        ) as span:
            # the log line is written after the send, which may wait on a slow client while
            # the session moves on: it carries the event's time, the span's start
            at = getattr(span, "start_time", None) or time.time_ns()
            try:
                await connection.send(reply(kind, ctx.thread_id, ctx.run_id, request_id, payload))
            except (
                Exception
            ) as exc:  # a dead connection must not fail the request that triggered it
                self.delivery_failures += 1
                self._recorder.fail(span, "delivery_failed", str(exc))
                self._recorder.log(
                    event,
                    ctx,
                    f"{kind} not delivered: {type(exc).__name__}: {exc}",
                    request_id,
                    at_ns=at,
                    level=logging.WARNING,
                    message_type=kind,
                    error_code="delivery_failed",
                )
                self.disconnect(connection.caller, connection.send)
                return 0
            self._recorder.log(event, ctx, f"{kind} sent", request_id, at_ns=at, message_type=kind)
        return 1
