"""`quality serve` as a real process: clients on loopback, SIGTERM flushes traces and logs."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys

from websockets.asyncio.client import connect


def _env(home) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "QUALITY_"))}
    env["QUALITY_HOME"] = str(home)
    return env


def test_serve_answers_clients_and_flushes_everything_on_sigterm(tmp_path):
    env = _env(tmp_path)
    token = subprocess.run(
        [sys.executable, "-m", "quality_cli", "--user", "zoe", "token"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout.strip()
    server = subprocess.Popen(
        [sys.executable, "-m", "quality_cli", "serve", "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        banner = server.stderr.readline()
        port = int(re.search(r"ws://127\.0\.0\.1:(\d+)/ws", banner).group(1))
        assert "; logs: " in banner  # one line, not wrapped at 80 columns

        async def talk() -> list[dict]:
            headers = {"Authorization": f"Bearer {token}"}
            async with connect(f"ws://127.0.0.1:{port}/ws", additional_headers=headers) as ws:
                await ws.recv()
                replies = []
                for message in (
                    {"type": "user_message", "payload": {"text": "hi"}},
                    {"type": "get_quality_metrics", "payload": {}},
                    "not json",
                ):
                    await ws.send(message if isinstance(message, str) else json.dumps(message))
                    replies.append(json.loads(await ws.recv()))
                return replies

        replies = asyncio.run(talk())
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
    finally:
        if server.poll() is None:
            server.kill()
    assert [r["type"] for r in replies] == ["agent_reply", "quality_metrics", "error"]
    assert len({r["thread_id"] for r in replies}) == 1
    logs = [
        json.loads(line) for line in (tmp_path / "logs" / "quality.jsonl").read_text().splitlines()
    ]
    assert [entry["event"] for entry in logs] == [
        "thread.create",
        "chat.user_message",
        "quality.get_metrics",
        "quality.unknown_message",
    ]
    spans = [
        span["name"]
        for line in (tmp_path / "traces" / "traces.jsonl").read_text().splitlines()
        for rs in json.loads(line)["resourceSpans"]
        for ss in rs["scopeSpans"]
        for span in ss["spans"]
    ]
    assert sorted(spans) == sorted(entry["event"] for entry in logs)
