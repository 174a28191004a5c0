"""Handler throughput: router + session manager + SQLite store + tracing to file, in-process.

Prints messages/s and p50/p99 latency with tracing on and off (median of
--repeat runs), and the tracing overhead per message. Pinned to one core.

    python benchmarks/handlers_bench.py --messages 20000 --repeat 3
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import tempfile
import time
from pathlib import Path

from handlers.app import QualityApp
from handlers.config import Settings, Strategy

TEXTS = [
    "Reduce checkout p99 latency from 410 ms to 200 ms by Friday: add an index on orders.user_id (@dana).",
    "Maybe consider optimizing various things to leverage synergies.",
    "Error rate rose to 2.3% at 14:05 because the payments pool was exhausted; raise max_connections to 80.",
]


def _messages(n: int, users: int, seed: int) -> list[tuple[int, dict]]:
    rng = random.Random(seed)
    kinds = [
        (
            {
                "type": "user_message",
                "payload": {"text": "How is the checkout service doing today?"},
            },
            30,
        ),
        ("validate", 30),
        ({"type": "get_quality_metrics", "payload": {"period_hours": 24}}, 12),
        ({"type": "subscribe_quality_alerts", "payload": {"threshold": 0.4}}, 5),
        ({"type": "generate_quality_report", "payload": {"report_type": "summary"}}, 3),
        ({"type": "switch_thread"}, 2),
        ({"type": "no_such_type", "payload": {}}, 3),
        ({"type": "create_thread", "payload": {"title": "new topic"}}, 2),
    ]
    population = [k for k, _ in kinds]
    weights = [w for _, w in kinds]
    out = []
    for _ in range(n):
        kind = rng.choices(population, weights)[0]
        if kind == "validate":
            kind = {
                "type": "validate_content",
                "payload": {"content": rng.choice(TEXTS), "content_type": "action_plan"},
            }
        out.append((rng.randrange(users), kind))
    return out


async def _drive(
    app: QualityApp,
    messages: list[tuple[int, dict]],
    users: int,
    by_type: dict[str, list[float]] | None = None,
) -> list[float]:
    callers = [app.sessions.open_session(f"user-{i}") for i in range(users)]
    threads: dict[int, str] = {}
    latencies = []
    clock = time.perf_counter
    for user, message in messages:
        if message["type"] == "switch_thread":
            if user not in threads:
                continue
            message = {"type": "switch_thread", "thread_id": threads[user]}
        start = clock()
        reply = await app.handle(callers[user], message)
        latencies.append(clock() - start)
        if by_type is not None:
            by_type.setdefault(message["type"], []).append(latencies[-1])
        if reply.get("thread_id") and message["type"] == "user_message":
            threads[user] = reply["thread_id"]
    return latencies


def run_once(
    messages: list[tuple[int, dict]], users: int, tracing: bool
) -> tuple[float, float, float]:
    with tempfile.TemporaryDirectory() as home:
        settings = Settings(home=Path(home), user="bench", strategy=Strategy.RESUME)
        app = QualityApp.open(settings, tracing=tracing)
        try:
            start, cpu_start = time.perf_counter(), time.process_time()
            latencies = asyncio.run(_drive(app, messages, users))
            app.telemetry.flush()
            elapsed = time.perf_counter() - start
            # CPU time of the whole process (exporter thread included): robust to a busy machine.
            cpu = time.process_time() - cpu_start
        finally:
            app.close()
    latencies.sort()
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[int(len(latencies) * 0.99)]
    return len(latencies) / elapsed, p50, p99, len(latencies) / cpu


def _print_by_type(messages: list[tuple[int, dict]], users: int) -> None:
    by_type: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as home:
        app = QualityApp.open(Settings(home=Path(home), user="bench"))
        try:
            asyncio.run(_drive(app, messages, users, by_type))
        finally:
            app.close()
    for kind, values in sorted(by_type.items(), key=lambda kv: -len(kv[1])):
        values.sort()
        share = len(values) / len(messages)
        print(f"  {kind:26} {share:6.1%}  p50 {values[len(values) // 2] * 1e6:7.1f} us")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--by-type", action="store_true", help="Also print p50 latency per message type."
    )
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    messages = _messages(args.messages, args.users, args.seed)
    print(
        f"machine: {platform.machine()} {os.cpu_count()} cpus, pinned to one core; python {platform.python_version()}"
    )
    print(f"{args.messages} messages, {args.users} users, median of {args.repeat} runs")
    results = {}
    for tracing in (True, False):
        runs = [run_once(messages, args.users, tracing) for _ in range(args.repeat)]
        rate = statistics.median(r[0] for r in runs)
        p50 = statistics.median(r[1] for r in runs)
        p99 = statistics.median(r[2] for r in runs)
        cpu_rate = statistics.median(r[3] for r in runs)
        results[tracing] = cpu_rate
        label = "tracing on " if tracing else "tracing off"
        print(
            f"{label}: {rate:9.0f} msg/s wall, {cpu_rate:9.0f} msg/s per CPU-second"
            f"   p50 {p50 * 1e6:7.1f} us   p99 {p99 * 1e6:7.1f} us"
        )
    overhead_us = (1 / results[True] - 1 / results[False]) * 1e6
    print(
        f"tracing overhead: {overhead_us:.1f} us/message; on/off throughput ratio {results[True] / results[False]:.2f}"
    )
    print(
        f"target: >= 8000 msg/s with tracing on ({'met' if results[True] >= 8000 else 'NOT met'}); "
        f"overhead <= 60 us ({'met' if overhead_us <= 60 else 'NOT met'})"
    )
    if args.by_type:
        print("p50 latency by message type (tracing on):")
        _print_by_type(messages, args.users)


if __name__ == "__main__":
    main()
