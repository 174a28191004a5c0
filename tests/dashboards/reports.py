"""Realistic example audit reports, shaped exactly as docs/audit_json (the auditor's --json).

The auditor is built in parallel, so these are made here from a small traffic plan: users with
sessions, each session with chat, thread and quality events. Counts are derived from the plan
so every report is internally consistent (lines = rejected + unattributed + missing_thread +
events, breaks = sum of by_event breaks, ...). Strategies follow DESIGN.md: `mint` breaks every
quality operation into an orphan thread, `default-session` sends them to one stray thread per
user, `resume` keeps them in the conversation.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
QUALITY_EVENTS = (
    "quality.get_metrics",
    "quality.validate_content",
    "quality.generate_report",
    "quality.subscribe_alerts",
    "quality.unknown_message",
)
NUMERIC_KEYS = (
    "lines",
    "rejected",
    "unattributed",
    "missing_thread",
    "events",
    "sessions",
    "threads",
    "breaks",
    "break_rate",
    "affected_sessions",
    "stray_threads",
    "orphan_threads",
    "run_breaks",
    "split_traces",
    "run_break_rate",
)


def wilson(breaks: int, events: int, z: float = 1.959964) -> list[float]:
    """Wilson 95% interval of breaks/events ([0, 0] without events)."""
    if events == 0:
        return [0.0, 0.0]
    p = breaks / events
    centre = (p + z * z / (2 * events)) / (1 + z * z / events)
    half = z * math.sqrt(p * (1 - p) / events + z * z / (4 * events * events))
    half /= 1 + z * z / events
    return [max(0.0, centre - half), min(1.0, centre + half)]


def two_proportion_p(b1: int, n1: int, b2: int, n2: int) -> float | None:
    """Two-sided p-value of the two-proportion z-test (None when a side is empty)."""
    if n1 == 0 or n2 == 0:
        return None
    pooled = (b1 + b2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    z = (b1 / n1 - b2 / n2) / se
    return math.erfc(abs(z) / math.sqrt(2))


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def strategy_report(
    strategy: str,
    *,
    users: int = 6,
    sessions_per_user: int = 2,
    label: str | None = None,
    source: str | None = None,
    rejected: int = 0,
) -> dict[str, Any]:
    """A report of simulated traffic under `strategy` (mint, default-session or resume)."""
    source = source or f"quality-demo/{strategy}/traces.jsonl"
    by_event: dict[str, list[int]] = {}
    sessions = []
    break_rows = []
    minutes: dict[str, list[int]] = {}
    line = rejected
    stray_users: set[str] = set()
    for u in range(1, users + 1):
        for s in range(sessions_per_user):
            user, session = f"user-{u}", f"sess-{u}-{chr(97 + s)}"
            quality = 4 + (u + s) % 5
            plan = (
                ["thread.create", *["chat.user_message"] * 10, "thread.switch"]
                + [QUALITY_EVENTS[i % len(QUALITY_EVENTS)] for i in range(quality)]
                + ["thread.create", *["chat.user_message"] * 8]
            )
            base = f"thread_17643{u:02d}{s}00000_{u}_{u * 7919 % 65536:04x}{s:02x}"
            current = base
            breaks = 0
            threads: set[str] = set()
            for k, event in enumerate(plan):
                line += 1
                ts = START + timedelta(seconds=(u * 37 + s * 300 + k * 13) % 900)
                minute = _iso(ts.replace(second=0, microsecond=0)).replace(".000000", "")
                broke = strategy != "resume" and event.startswith("quality.")
                if event == "thread.create":
                    current = f"{base}{k:02d}"
                    threads.add(current)
                actual = current
                if broke:
                    breaks += 1
                    if strategy == "mint":
                        actual = f"thread_{int(ts.timestamp() * 1000)}_{line}_{line * 2654435761 % 2**32:08x}"
                    else:
                        actual = f"{user}:default"
                        stray_users.add(user)
                    threads.add(actual)
                    if len(break_rows) < 20:
                        break_rows.append(
                            {
                                "source": source,
                                "line": line,
                                "ts": _iso(ts),
                                "user_id": user,
                                "session_id": session,
                                "event": event,
                                "expected_thread": current,
                                "actual_thread": actual,
                                "trace_id": f"{line * 2654435761:032x}"[-32:],
                            }
                        )
                counts = by_event.setdefault(event, [0, 0])
                counts[0] += 1
                counts[1] += int(broke)
                slot = minutes.setdefault(minute, [0, 0])
                slot[0] += 1
                slot[1] += int(broke)
            sessions.append(
                {
                    "user_id": user,
                    "session_id": session,
                    "events": len(plan),
                    "breaks": breaks,
                    "threads": len(threads),
                }
            )
    events = sum(counts[0] for counts in by_event.values())
    breaks = sum(counts[1] for counts in by_event.values())
    chat_threads = 2 * len(sessions)
    if strategy == "mint":
        stray = orphan = breaks
    elif strategy == "default-session":
        stray, orphan = len(stray_users), 0
    else:
        stray = orphan = 0
    threads_hist: dict[int, int] = {}
    for row in sessions:
        threads_hist[row["threads"]] = threads_hist.get(row["threads"], 0) + 1
    reasons = {"invalid_json": rejected - rejected // 2, "missing_timestamp": rejected // 2}
    report: dict[str, Any] = {
        "lines": events + rejected,
        "rejected": rejected,
        "unattributed": 0,
        "missing_thread": 0,
        "events": events,
        "sessions": len(sessions),
        "threads": chat_threads + stray,
        "breaks": breaks,
        "break_rate": breaks / events if events else 0.0,
        "affected_sessions": sum(1 for row in sessions if row["breaks"]),
        "stray_threads": stray,
        "orphan_threads": orphan,
        "run_breaks": 0,
        "split_traces": 0,
        "by_event": [
            {"event": event, "events": counts[0], "breaks": counts[1]}
            for event, counts in sorted(
                by_event.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0])
            )
        ],
        "rejected_by_reason": {reason: count for reason, count in reasons.items() if count},
        "label": label or strategy,
        "inputs": [source],
        "break_rate_ci": wilson(breaks, events),
        "run_break_rate": 0.0,
        "time_range": {
            "start": _iso(
                START + timedelta(seconds=min((u * 37) % 900 for u in range(1, users + 1)))
            ),
            "end": _iso(START + timedelta(seconds=899)),
        },
        "breaks_per_minute": [
            {"minute": minute, "events": counts[0], "breaks": counts[1]}
            for minute, counts in sorted(minutes.items())
        ],
        "threads_per_session": [
            {"threads": threads, "sessions": count}
            for threads, count in sorted(threads_hist.items())
        ],
        "top_sessions": sorted(sessions, key=lambda row: (-row["breaks"], -row["events"]))[:10],
        "break_examples": break_rows,
        "rejected_examples": [
            {
                "source": source,
                "line": n + 1,
                "reason": "invalid_json" if n % 2 == 0 else "missing_timestamp",
            }
            for n in range(min(rejected, 10))
        ],
    }
    return report


def empty_report(label: str = "empty") -> dict[str, Any]:
    """A report of an input with no events at all."""
    return {
        **{key: 0 for key in NUMERIC_KEYS},
        "break_rate": 0.0,
        "run_break_rate": 0.0,
        "by_event": [],
        "rejected_by_reason": {},
        "label": label,
        "inputs": [f"{label}.jsonl"],
        "break_rate_ci": [0.0, 0.0],
        "time_range": {"start": None, "end": None},
        "breaks_per_minute": [],
        "threads_per_session": [],
        "top_sessions": [],
        "break_examples": [],
        "rejected_examples": [],
    }


def comparison(
    before: dict[str, Any], after: dict[str, Any], kind: str = "by", value: str = "version"
) -> dict[str, Any]:
    """A comparison object of two reports, as `--split-by`/`--split-at`/`quality compare` write it."""
    p_value = two_proportion_p(before["breaks"], before["events"], after["breaks"], after["events"])
    return {
        "before": before,
        "after": after,
        "delta": {key: after[key] - before[key] for key in NUMERIC_KEYS},
        "p_value": p_value,
        "significant": p_value is not None and p_value < 0.05,
        "split": {"kind": kind, "value": value},
    }


def demo_documents() -> list[dict[str, Any]]:
    """What the demo feeds the dashboard: three strategies and one rollout comparison."""
    rollout_before = strategy_report(
        "mint", label="rollout", source="quality-demo/rollout/traces.jsonl", users=3
    )
    rollout_after = strategy_report(
        "resume", label="rollout", source="quality-demo/rollout/traces.jsonl", users=3
    )
    return [
        strategy_report("mint", rejected=3),
        strategy_report("default-session"),
        strategy_report("resume"),
        comparison(rollout_before, rollout_after),
    ]
