"""Concurrency: users interleaved on one event loop never see each other's thread or run.

One app serves every user, as a server does. Hundreds of tasks run at once; each
yields at random points (before its message, while its reply and broadcasts are
being sent, i.e. inside its span), so requests of different users interleave.
Replies, pushed broadcasts, in-memory spans and the JSON log file are all checked.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from typing import Any

import orjson
import pytest

from handlers import attributes as attr
from handlers.config import Strategy
from handlers.testing import FakeClock, memory_app

USERS = ("alice", "bob", "carol", "dave")
SESSIONS_PER_USER = 3
MESSAGES_PER_SESSION = 20
LOW = "maybe"
HIGH = "Cut p99 latency of the checkout API from 840 ms to 300 ms by Friday (owner: Dana)."


def _message(rng: random.Random) -> dict[str, Any]:
    """A random protocol message; quality operations never name a thread."""
    choice = rng.random()
    if choice < 0.25:
        return {"type": "user_message", "payload": {"text": f"question {rng.randrange(1000)}"}}
    if choice < 0.45:
        return {"type": "validate_content", "payload": {"content": rng.choice((LOW, HIGH))}}
    if choice < 0.6:
        return {"type": "get_quality_metrics"}
    if choice < 0.7:
        return {"type": "generate_quality_report", "payload": {"period": "week"}}
    if choice < 0.8:
        return {"type": "subscribe_quality_alerts", "payload": {"threshold": 0.5}}
    if choice < 0.85:
        return {"type": "create_thread", "payload": {"title": "side topic"}}
    if choice < 0.9:
        return {"type": "no_such_message"}
    return {"type": "get_quality_metrics", "payload": {"period_hours": "bad"}}


class Channel:
    """A session's outbound socket: keeps what it got and yields to other tasks on every send."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.received: list[dict[str, Any]] = []

    async def __call__(self, message: dict[str, Any]) -> None:
        for _ in range(self.rng.randrange(3)):
            await asyncio.sleep(0)
        self.received.append(message)


class Ownership:
    """Who each thread/run ID was seen with; an ID seen with two users is a leak."""

    def __init__(self, store) -> None:
        self.store = store
        self.seen: dict[str, set[str]] = defaultdict(set)

    def see(self, user: str, thread_id: str | None, run_id: str | None, where: str) -> None:
        if thread_id is not None:
            self.seen[thread_id].add(user)
            stored = self.store.get_thread(thread_id)
            assert stored is None or stored.user_id == user, f"{where}: {user} got {thread_id}"
        if run_id is not None:
            self.seen[run_id].add(user)
            run = self.store.get_run(run_id)
            assert run is None or run.user_id == user, f"{where}: {user} got {run_id}"

    def assert_no_shared_ids(self) -> None:
        shared = {k: v for k, v in self.seen.items() if len(v) > 1}
        assert not shared, f"IDs seen by more than one user: {shared}"


def _session_tasks(app, caller, channel, rng, replies):
    tasks = []
    for _ in range(MESSAGES_PER_SESSION):
        message, delay = _message(rng), rng.randrange(6)

        async def one(message=message, delay=delay):
            for _ in range(delay):
                await asyncio.sleep(0)
            out = await app.handle(caller, message, channel)
            replies.append((caller, out))

        tasks.append(one())
    return tasks


def _overlapping_users(spans) -> int:
    """Spans that started while a span of another user was still open."""
    ordered = sorted(spans, key=lambda s: s.start_time)
    count = 0
    for i, span in enumerate(ordered):
        for later in ordered[i + 1 :]:
            if later.start_time >= span.end_time:
                break
            count += later.attributes[attr.USER_ID] != span.attributes[attr.USER_ID]
    return count


@pytest.mark.parametrize("strategy", list(Strategy))
@pytest.mark.parametrize("seed", [7, 2026])
async def test_interleaved_users_never_see_each_others_threads_or_runs(tmp_path, strategy, seed):
    rng = random.Random(seed)
    app, exporter = memory_app(tmp_path, strategy=strategy, clock=FakeClock())
    replies: list[tuple[Any, dict[str, Any]]] = []
    channels = {}
    try:
        tasks = []
        for user in USERS:
            for _ in range(SESSIONS_PER_USER):
                caller = app.sessions.open_session(user)
                channel = Channel(random.Random(rng.random()))
                app.manager.connect(caller, channel)
                channels[caller] = channel
                tasks += _session_tasks(app, caller, channel, rng, replies)
        rng.shuffle(tasks)
        assert len(tasks) >= 200
        await asyncio.gather(*tasks)
        app.telemetry.flush()
        app.store.flush()
        owners = Ownership(app.store)

        # Replies: each reply carries the caller's own context and was sent on its own channel.
        assert len(replies) == len(tasks)
        for caller, out in replies:
            owners.see(caller.user_id, out["thread_id"], out["run_id"], f"reply {out['type']}")
            assert out in channels[caller].received

        # Everything a session received (replies and broadcasts) belongs to its user.
        broadcasts = 0
        for caller, channel in channels.items():
            for message in channel.received:
                owners.see(caller.user_id, message["thread_id"], message["run_id"], "pushed")
                broadcasts += message["type"] in ("quality_update", "quality_alert")
        assert broadcasts > 0, "the scenario must exercise broadcasts"

        # Spans: user.id, session.id and the IDs agree; one user per trace.
        spans = exporter.get_finished_spans()
        span_users = {}
        trace_users: dict[int, set[str]] = defaultdict(set)
        session_users = {c.session_id: c.user_id for c in channels}
        for span in spans:
            user = span.attributes[attr.USER_ID]
            assert session_users[span.attributes[attr.SESSION_ID]] == user
            assert span.attributes.get(attr.THREAD_ID) == span.attributes.get(attr.CONVERSATION_ID)
            owners.see(
                user,
                span.attributes.get(attr.THREAD_ID),
                span.attributes.get(attr.RUN_ID),
                f"span {span.name}",
            )
            span_users[span.context.span_id] = user
            trace_users[span.context.trace_id].add(user)
        assert all(len(users) == 1 for users in trace_users.values())
        assert _overlapping_users(spans) > 0, "requests of different users must interleave"

        # Log lines: the IDs belong to the line's user, and so does the span it was written in.
        lines = [orjson.loads(x) for x in app.settings.log_path.read_text().splitlines()]
        assert len(lines) == len(spans)
        for line in lines:
            user = line["user_id"]
            assert session_users[line["session_id"]] == user
            owners.see(user, line["thread_id"], line["run_id"], f"log {line['event']}")
            assert span_users[int(line["span_id"], 16)] == user

        owners.assert_no_shared_ids()
    finally:
        app.close()


async def test_resume_keeps_each_session_in_its_own_thread_under_interleaving(tmp_path):
    """Two users, many sessions, quality ops interleaved: every reply is in the session's thread."""
    app, _ = memory_app(tmp_path, clock=FakeClock())
    rng = random.Random(11)
    try:
        threads = {}
        callers = []
        for user in ("alice", "bob"):
            for _ in range(4):
                caller = app.sessions.open_session(user)
                created = await app.handle(caller, {"type": "create_thread"})
                threads[caller] = created["thread_id"]
                callers.append(caller)
        assert len(set(threads.values())) == len(callers)

        async def one(caller, message):
            for _ in range(rng.randrange(4)):
                await asyncio.sleep(0)

            async def send(m):
                await asyncio.sleep(0)

            return caller, await app.handle(caller, message, send)

        quality = [
            {"type": "get_quality_metrics"},
            {"type": "validate_content", "payload": {"content": HIGH}},
            {"type": "generate_quality_report"},
            {"type": "user_message", "payload": {"text": "next"}},
        ]
        tasks = [one(c, rng.choice(quality)) for c in callers for _ in range(40)]
        rng.shuffle(tasks)
        for caller, out in await asyncio.gather(*tasks):
            assert out["type"] != "error", out
            assert out["thread_id"] == threads[caller]
    finally:
        app.close()
