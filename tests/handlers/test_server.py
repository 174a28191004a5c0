"""Tests for handlers/server.py: a real WebSocket server and clients on loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from handlers.auth import issue_token
from handlers.server import QualityServer
from handlers.testing import memory_app

SECRET = b"test-secret"


@pytest.fixture
async def server_url(tmp_path) -> AsyncIterator[tuple[str, object]]:
    app, exporter = memory_app(tmp_path, clock=None)
    server = QualityServer(app, SECRET)
    ready: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def started(listening) -> None:
        ready.set_result(listening.sockets[0].getsockname()[1])

    task = asyncio.create_task(server.run("127.0.0.1", 0, started))
    port = await asyncio.wait_for(ready, 10)
    try:
        yield f"ws://127.0.0.1:{port}/ws", exporter
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        app.close()


def _auth(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, user, 3600)}"}


async def _ask(ws, message: dict | str) -> dict:
    await ws.send(message if isinstance(message, str) else json.dumps(message))
    return json.loads(await ws.recv())


async def test_quality_replies_stay_in_the_chat_thread(server_url):
    url, _ = server_url
    async with connect(url, additional_headers=_auth("alice")) as ws:
        ready = json.loads(await ws.recv())
        assert ready["type"] == "session_ready"
        chat = await _ask(ws, {"type": "user_message", "payload": {"text": "hello"}})
        metrics = await _ask(ws, {"type": "get_quality_metrics", "payload": {}})
        assert chat["type"] == "agent_reply" and metrics["type"] == "quality_metrics"
        assert (metrics["thread_id"], metrics["run_id"]) == (chat["thread_id"], chat["run_id"])


async def test_bad_message_gets_an_error_in_the_same_session_and_serving_goes_on(server_url):
    url, _ = server_url
    async with connect(url, additional_headers=_auth("alice")) as ws:
        await ws.recv()
        chat = await _ask(ws, {"type": "user_message", "payload": {"text": "hi"}})
        error = await _ask(ws, "{not json")
        assert error["type"] == "error" and error["code"] == "invalid_json"
        assert error["thread_id"] == chat["thread_id"]
        after = await _ask(
            ws, {"type": "validate_content", "payload": {"content": "Add an index by Friday."}}
        )
        assert after["type"] == "content_validation_result"
        assert after["thread_id"] == chat["thread_id"]


async def test_reconnect_resumes_the_session(server_url):
    url, _ = server_url
    async with connect(url, additional_headers=_auth("bob")) as ws:
        session = json.loads(await ws.recv())["payload"]["session_id"]
        chat = await _ask(ws, {"type": "user_message", "payload": {"text": "hi"}})
    async with connect(f"{url}?session_id={session}", additional_headers=_auth("bob")) as ws:
        ready = json.loads(await ws.recv())
        assert ready["payload"]["session_id"] == session
        assert ready["thread_id"] == chat["thread_id"]
        report = await _ask(ws, {"type": "generate_quality_report", "payload": {}})
        assert report["thread_id"] == chat["thread_id"]


async def test_another_users_session_cannot_be_resumed(server_url):
    url, _ = server_url
    async with connect(url, additional_headers=_auth("bob")) as ws:
        session = json.loads(await ws.recv())["payload"]["session_id"]
        await _ask(ws, {"type": "user_message", "payload": {"text": "hi"}})
    async with connect(f"{url}?session_id={session}", additional_headers=_auth("mallory")) as ws:
        with pytest.raises(Exception) as info:
            await ws.recv()
        assert "unknown session" in str(info.value)


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer nope.nope"}, 401),
        ({"Authorization": f"Bearer {issue_token(b'other', 'x', 60)}"}, 401),
    ],
)
async def test_unauthenticated_connections_are_refused(server_url, headers, status):
    url, _ = server_url
    with pytest.raises(InvalidStatus) as info:
        async with connect(url, additional_headers=headers):
            pass
    assert info.value.response.status_code == status


async def test_alert_reaches_every_live_session_of_the_user_only(server_url):
    url, _ = server_url
    async with (
        connect(url, additional_headers=_auth("carol")) as first,
        connect(url, additional_headers=_auth("carol")) as second,
        connect(url, additional_headers=_auth("dave")) as other,
    ):
        for ws in (first, second, other):
            await ws.recv()
        await _ask(first, {"type": "user_message", "payload": {"text": "hi"}})
        await _ask(second, {"type": "user_message", "payload": {"text": "hi"}})
        await _ask(other, {"type": "subscribe_quality_alerts", "payload": {"threshold": 0.99}})
        await _ask(first, {"type": "subscribe_quality_alerts", "payload": {"threshold": 0.99}})
        result = await _ask(
            first, {"type": "validate_content", "payload": {"content": "maybe things"}}
        )
        assert result["payload"]["passed"] is False
        received = {}
        for name, ws in (("first", first), ("second", second)):
            kinds = [json.loads(await asyncio.wait_for(ws.recv(), 5))["type"] for _ in range(2)]
            received[name] = sorted(kinds)
        assert received == {
            "first": ["quality_alert", "quality_update"],
            "second": ["quality_alert", "quality_update"],
        }
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(other.recv(), 0.3)
