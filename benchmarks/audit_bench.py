"""Benchmark: `quality audit --json` against DuckDB SQL and a plain-Python loop, same semantics.

Generates (once, cached in benchmarks/data/) a clean flat JSON-lines log of N events
with realistic IDs, then times three implementations of the continuity rules
(thread breaks, run breaks, stray/orphan threads, split traces, per-event counts),
each in its own process so that its peak RSS can be read with ``os.wait4``.
Prints medians of ``--repeat`` runs, the ratios, peak RSS, and with ``--scaling``
the RSS growth of `quality audit` when the input grows 4x. Checks that all three
find the same number of breaks and run breaks.

Usage: python benchmarks/audit_bench.py [--events 5000000] [--repeat 3] [--scaling] [--stages]
       python benchmarks/audit_bench.py --events 1000000 --files 1000   (a directory of logs)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data"
QUALITY_EVENTS = (
    "quality.get_metrics",
    "quality.validate_content",
    "quality.generate_report",
    "quality.subscribe_alerts",
)
START_MS = int(datetime(2026, 11, 24, 8, 0, tzinfo=UTC).timestamp() * 1000)


def _mint(rng: random.Random, prefix: str, ms: int, counter: list[int]) -> str:
    counter[0] += 1
    return f"{prefix}_{ms}_{counter[0]}_{rng.getrandbits(32):08x}"


def generate(path: Path, events: int, seed: int = 7) -> None:
    """Write `events` time-ordered JSON lines from ~events/15 interleaved sessions."""
    rng = random.Random(seed)
    counter = [0]
    users = [f"user_{i:06d}" for i in range(max(10, events // 40))]
    active: list[dict[str, object]] = []
    t_us = START_MS * 1000
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", buffering=1 << 20) as out:
        for _ in range(events):
            while len(active) < 2000:
                ms = t_us // 1000
                active.append(
                    {
                        "user": rng.choice(users),
                        "session": _mint(rng, "sess", ms, counter),
                        "thread": None,
                        "run": None,
                        "left": max(2, int(rng.expovariate(1 / 15))),
                    }
                )
            i = rng.randrange(len(active))
            s = active[i]
            t_us += rng.randint(1, 400)
            ms = t_us // 1000
            thread, run = s["thread"], s["run"]
            if thread is None or rng.random() < 0.02:
                event = "thread.create" if thread is None or rng.random() < 0.5 else "thread.switch"
                thread = s["thread"] = _mint(rng, "thread", ms, counter)
                run = s["run"] = None
            elif run is None or rng.random() < 0.3:
                event = "chat.user_message"
                run = s["run"] = _mint(rng, "run", ms, counter)
            else:
                event = rng.choice(QUALITY_EVENTS)
                roll = rng.random()
                if roll < 0.01:  # mint strategy: a fresh, isolated context
                    thread, run = _mint(rng, "thread", ms, counter), _mint(rng, "run", ms, counter)
                elif roll < 0.015:  # answered in the right thread but another run
                    run = _mint(rng, "run", ms, counter)
            stamp = datetime.fromtimestamp(t_us / 1e6, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            run_field = f'"run_id":"{run}",' if run else ""
            out.write(
                f'{{"timestamp":"{stamp}","level":"info","event":"{event}",'
                f'"user_id":"{s["user"]}","session_id":"{s["session"]}",'
                f'"thread_id":"{thread}",{run_field}'
                f'"trace_id":"{rng.getrandbits(128):032x}","span_id":"{rng.getrandbits(64):016x}"}}\n'
            )
            s["left"] = int(s["left"]) - 1  # type: ignore[call-overload]
            if int(s["left"]) <= 0:  # type: ignore[call-overload]
                active[i] = active[-1]
                active.pop()
    tmp.rename(path)


def dataset(events: int) -> Path:
    """The cached file of `events` events (generated on first use)."""
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"audit_{events}.jsonl"
    if not path.exists():
        started = time.perf_counter()
        print(f"generating {path.name} ...", file=sys.stderr, flush=True)
        generate(path, events)
        size = path.stat().st_size / 1e9
        print(f"  {size:.2f} GB in {time.perf_counter() - started:.0f}s", file=sys.stderr)
    return path


DUCKDB_SQL = """
PRAGMA threads={threads};
CREATE TEMP TABLE ev AS
SELECT * FROM (
  SELECT ts, user_id, coalesce(session_id, '') AS session_id, thread_id,
         nullif(run_id, '') AS run_id, event, trace_id, ln AS line
  FROM (SELECT *, row_number() OVER () AS ln
        FROM read_json('{path}', format='newline_delimited', columns={{
          'timestamp': 'TIMESTAMPTZ', 'event': 'VARCHAR', 'user_id': 'VARCHAR',
          'session_id': 'VARCHAR', 'thread_id': 'VARCHAR', 'run_id': 'VARCHAR',
          'trace_id': 'VARCHAR'}}) AS r(ts, event, user_id, session_id, thread_id, run_id, trace_id))
) WHERE user_id IS NOT NULL AND thread_id IS NOT NULL;
CREATE TEMP TABLE a AS
WITH o AS (
  SELECT *, row_number() OVER w = 1 AS first,
         event IN ('thread.create', 'thread.switch') AS trans
  FROM ev WINDOW w AS (PARTITION BY user_id, session_id ORDER BY ts, line)
), c AS (
  SELECT *, last_value(CASE WHEN first OR trans THEN thread_id END IGNORE NULLS)
            OVER w AS cur
  FROM o WINDOW w AS (PARTITION BY user_id, session_id ORDER BY ts, line
                      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
), b AS (
  SELECT *, NOT trans AND thread_id <> cur AS brk FROM c
), s AS (
  SELECT *, first OR trans OR (event = 'chat.user_message' AND NOT brk AND run_id IS NOT NULL)
            AS setter FROM b
), g AS (
  SELECT *, sum(setter::INT) OVER w AS seg FROM s
  WINDOW w AS (PARTITION BY user_id, session_id ORDER BY ts, line
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
), r AS (
  SELECT *, NOT setter AND NOT brk AND run_id IS NOT NULL AS checked FROM g
), q AS (
  SELECT *, coalesce(first_value(CASE WHEN setter THEN run_id END IGNORE NULLS) OVER w,
                     first_value(CASE WHEN checked THEN run_id END IGNORE NULLS) OVER w) AS cur_run
  FROM r WINDOW w AS (PARTITION BY user_id, session_id, seg ORDER BY ts, line
                      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
)
SELECT user_id, session_id, thread_id, event, trace_id, brk,
       checked AND run_id <> cur_run AS run_brk FROM q;
SELECT count(*) AS events, sum(brk::INT) AS breaks, sum(run_brk::INT) AS run_breaks,
       count(DISTINCT (user_id, session_id)) AS sessions,
       (SELECT count(*) FROM (SELECT 1 FROM a GROUP BY thread_id
                              HAVING bool_and(brk))) AS stray_threads,
       (SELECT count(*) FROM (SELECT 1 FROM a WHERE trace_id IS NOT NULL GROUP BY trace_id
                              HAVING count(DISTINCT thread_id) > 1)) AS split_traces,
       (SELECT count(*) FROM (SELECT event FROM a GROUP BY event)) AS event_kinds
FROM a;
"""

DUCKDB_RUNNER = """
import duckdb, json, sys
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")
*setup, final = [s for s in sys.argv[1].split(";\\n") if s.strip()]
for statement in setup:
    con.execute(statement)
row = con.execute(final).fetchone()
names = [d[0] for d in con.description]
print(json.dumps(dict(zip(names, row))))
"""

PYTHON_RUNNER = """
import glob, json, os, sys
from collections import defaultdict
sessions = defaultdict(list)
lines = 0
target = sys.argv[1]
files = sorted(glob.glob(os.path.join(target, "*.jsonl"))) if os.path.isdir(target) else [target]
for f, path in enumerate(files):
  with open(path, encoding="utf-8") as fh:
    for n, text in enumerate(fh, 1):
        lines += 1
        r = json.loads(text)
        if r.get("user_id") and r.get("thread_id"):
            sessions[(r["user_id"], r.get("session_id") or "")].append(
                (r["timestamp"], f, n, r["thread_id"], r.get("run_id") or None, r.get("event"),
                 r.get("trace_id")))
breaks = run_breaks = 0
per_thread = defaultdict(lambda: [0, 0])
trace_threads = defaultdict(set)
for evs in sessions.values():
    evs.sort()
    cur = cur_run = None
    for i, (ts, f, n, thread, run, event, trace) in enumerate(evs):
        trans = event in ("thread.create", "thread.switch")
        if i == 0 or trans:
            cur, cur_run, brk = thread, run, False
        else:
            brk = thread != cur
            if not brk and run is not None:
                if event == "chat.user_message" or cur_run is None:
                    cur_run = run
                elif run != cur_run:
                    run_breaks += 1
        breaks += brk
        per_thread[thread][0] += 1
        per_thread[thread][1] += brk
        if trace:
            trace_threads[trace].add(thread)
print(json.dumps({"lines": lines, "breaks": breaks, "run_breaks": run_breaks,
                  "sessions": len(sessions),
                  "stray_threads": sum(1 for e, b in per_thread.values() if e == b),
                  "split_traces": sum(1 for t in trace_threads.values() if len(t) > 1)}))
"""


STAGES_RUNNER = """
import json, sys, tempfile, time
from pathlib import Path
started = time.perf_counter()
from auditor.audit import AuditOptions, _analyser, _stored, load
imported = time.perf_counter()
with tempfile.TemporaryDirectory() as spill:
    loaded = load([sys.argv[1]], AuditOptions(), spill_dir=Path(spill))
    read = time.perf_counter()
    report = _analyser(AuditOptions(), loaded)(_stored(loaded), "bench").report
    done = time.perf_counter()
print(json.dumps({"import": imported - started, "read": read - imported,
                  "analyse": done - read, "breaks": report["breaks"],
                  "run_breaks": report["run_breaks"]}))
"""


def _run(argv: list[str]) -> tuple[float, float, dict[str, object], float]:
    """Wall seconds, peak RSS (MB), the JSON printed and CPU seconds of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, cwd=ROOT)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed with exit code {child.returncode}")
    return elapsed, usage.ru_maxrss / 1024, json.loads(output), usage.ru_utime + usage.ru_stime


def split_dataset(path: Path, files: int) -> Path:
    """The events of ``path`` in ``files`` files of consecutive lines (a directory of many
    instances' or hours' logs), cached beside it."""
    directory = path.with_name(f"{path.stem}_{files}files")
    if directory.exists():
        return directory
    lines = path.read_bytes().splitlines(keepends=True)
    size = -(-len(lines) // files)
    tmp = directory.with_suffix(".tmp")
    tmp.mkdir()
    for k in range(files):
        (tmp / f"part-{k:05d}.jsonl").write_bytes(b"".join(lines[k * size : (k + 1) * size]))
    tmp.rename(directory)
    return directory


def commands(path: Path) -> dict[str, list[str]]:
    """The three implementations as child-process command lines (``path``: a file, or a
    directory of ``*.jsonl`` files)."""
    py = sys.executable
    source = path / "*.jsonl" if path.is_dir() else path
    sql = DUCKDB_SQL.format(path=source, threads=os.cpu_count() or 2)
    return {
        "quality audit": [py, "-m", "quality_cli", "audit", str(path), "--json", "--quiet"],
        "duckdb": [py, "-c", DUCKDB_RUNNER, sql],
        "python": [py, "-c", PYTHON_RUNNER, str(path)],
    }


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--python-repeat", type=int, default=None, help="default: --repeat")
    parser.add_argument("--only", nargs="*", default=None, help="subset of implementations")
    parser.add_argument("--scaling", action="store_true", help="also audit a 4x input")
    parser.add_argument(
        "--files", type=int, default=1, help="split the events into this many files (a directory)"
    )
    parser.add_argument(
        "--stages", action="store_true", help="also time reading vs analysis (in-process)"
    )
    args = parser.parse_args()
    path = dataset(args.events)
    size_gb = path.stat().st_size / 1e9
    if args.files > 1:
        path = split_dataset(path, args.files)
    shown = f"{path.name} ({args.files:,} files)" if args.files > 1 else path.name
    print(f"input: {shown}, {args.events:,} events, {size_gb:.2f} GB; cpus={os.cpu_count()}")
    results: dict[str, tuple[float, float, dict[str, object], float]] = {}
    chosen = {n: a for n, a in commands(path).items() if not args.only or n in args.only}
    # round robin, so that a machine that slows down or speeds up during the run (shared
    # hosts do) weighs on every implementation alike, and the ratios stay fair
    done: dict[str, list[tuple[float, float, dict[str, object], float]]] = {n: [] for n in chosen}
    for round_ in range(args.repeat):
        for name, argv in chosen.items():
            repeat = args.python_repeat if name == "python" and args.python_repeat else args.repeat
            if round_ < repeat:
                done[name].append(_run(argv))
    for name, runs in done.items():
        times = [r[0] for r in runs]
        cpu = statistics.median(r[3] for r in runs)
        results[name] = (statistics.median(times), max(r[1] for r in runs), runs[-1][2], cpu)
        print(
            f"{name:14s} median {results[name][0]:7.2f}s  (runs: "
            f"{', '.join(f'{t:.2f}' for t in times)})  cpu {cpu:6.2f}s  "
            f"peak RSS {results[name][1]:7.0f} MB"
        )
    found = {name: (r[2]["breaks"], r[2]["run_breaks"]) for name, r in results.items()}
    print("breaks, run_breaks:", found)
    if len(set(found.values())) > 1:
        raise SystemExit("MISMATCH: the implementations disagree on breaks/run_breaks")
    audit = results.get("quality audit")
    if audit and "duckdb" in results:
        duck = results["duckdb"]
        print(f"audit / duckdb time ratio: {audit[0] / duck[0]:.2f} (target <= 0.5)")
        paired = [a[0] / d[0] for a, d in zip(done["quality audit"], done["duckdb"], strict=True)]
        print(
            f"  same-round ratios: {', '.join(f'{r:.2f}' for r in paired)} "
            f"(median {statistics.median(paired):.2f})"
        )
        print(f"audit / duckdb cpu ratio:  {audit[3] / duck[3]:.2f}")
    if audit and "python" in results:
        print(f"python / audit speed-up:   {results['python'][0] / audit[0]:.1f}x (target >= 10)")
    if args.stages:
        runs = [_run([sys.executable, "-c", STAGES_RUNNER, str(path)]) for _ in range(args.repeat)]
        split = {k: statistics.median(float(r[2][k]) for r in runs) for k in ("read", "analyse")}
        print(
            f"stages (library, no CLI): read+normalize+compact+spill median {split['read']:.2f}s, "
            f"analysis median {split['analyse']:.2f}s"
        )
    if audit and args.scaling:
        big = dataset(args.events * 4)
        elapsed, rss, _, _ = _run(commands(big)["quality audit"])
        print(
            f"scaling: 4x input ({big.stat().st_size / 1e9:.2f} GB) audit {elapsed:.2f}s, "
            f"peak RSS {rss:.0f} MB = {rss / audit[1]:.2f}x (target < 1.5)"
        )


if __name__ == "__main__":
    main()
