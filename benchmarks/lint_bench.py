"""Benchmark `quality lint` on a synthetic tree of handler modules (default 2,000 files).

Half the modules are clean, half carry one of the anti-patterns (QC001-QC004), so every
rule's code path runs. The script times the real command (`python -m quality_cli lint
TREE --format json`, a fresh process each run, so import time is included), checks the
findings are the ones planted, and prints the median of the runs and files per second.

Usage: python benchmarks/lint_bench.py [--files 2000] [--runs 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HEADER = '''"""Quality handler {n} (synthetic, for the lint benchmark)."""

import logging
import secrets
import uuid

from app.ids import generate_run_id, generate_thread_id

logger = logging.getLogger(__name__)


class QualityHandler{n}:
    def __init__(self, session_manager, manager):
        self.session_manager = session_manager
        self.manager = manager
        self._subscriptions = {{}}

'''

CLEAN = """    async def handle(self, user_id, payload):
        request_id = payload.get("request_id") or str(uuid.uuid4())
        context = await self.session_manager.get_execution_context(
            user_id, thread_id=payload.get("thread_id"), run_id=payload.get("run_id")
        )
        try:
            result = await self.manager.get_metrics(payload.get("agent_name"), payload.get("period_hours", 24))
        except Exception as exc:
            await self._handle_metrics_error(user_id, context, exc)
            return
        logger.info("metrics", extra={"request_id": request_id})
        await self._send_metrics_response(user_id, context, result)
"""

DEFECTS = {
    "QC001": """    async def handle(self, user_id, payload):
        thread_id = payload.get("thread_id") or generate_thread_id()
        run_id = payload.get("run_id") or generate_run_id()
        context = await self.session_manager.get_execution_context(thread_id=thread_id, run_id=run_id)
        result = await self.manager.get_metrics(payload.get("agent_name"), payload.get("period_hours", 24))
        await self._send_metrics_response(user_id, context, result)
""",
    "QC002": """    async def handle(self, user_id, payload):
        self._current_thread_id = payload["thread_id"]
        context = await self.session_manager.get_execution_context(
            user_id, thread_id=payload["thread_id"], run_id=payload.get("run_id")
        )
        await self._send_current_response(user_id, context)

    async def _send_current_response(self, user_id, context):
        await self.manager.send(user_id, {"thread_id": self._current_thread_id})
""",
    "QC003": """    async def handle(self, user_id, payload):
        logger.info("metrics for thread %s", payload.get("thread_id"))
        context = await self.session_manager.get_execution_context(user_id, thread_id=None, run_id=None)
        await self._send_metrics_response(user_id, context, {})
""",
    "QC004": """    async def handle(self, user_id, payload):
        context = await self.session_manager.get_execution_context(
            user_id, thread_id=payload.get("thread_id"), run_id=payload.get("run_id")
        )
        try:
            result = await self.manager.get_metrics(payload.get("agent_name"))
        except Exception as exc:
            context = await self.session_manager.get_execution_context(
                user_id, thread_id=f"thread_{uuid.uuid4().hex[:8]}", run_id=secrets.token_hex(8)
            )
            result = {"error": str(exc)}
        await self._send_metrics_response(user_id, context, result)
""",
}

FOOTER = """
    async def _send_metrics_response(self, user_id, context, result):
        await self.manager.send(
            user_id,
            {"type": "quality_metrics", "thread_id": context.thread_id, "run_id": context.run_id, "result": result},
        )

    async def _handle_metrics_error(self, user_id, context, exc):
        await self.manager.send(
            user_id,
            {"type": "error", "code": "metrics_failed", "message": str(exc), "thread_id": context.thread_id},
        )

    async def _handle_create_thread(self, user_id, payload):
        thread_id = generate_thread_id()
        context = await self.session_manager.get_execution_context(user_id, thread_id=thread_id)
        return {"type": "thread_created", "thread_id": context.thread_id, "nonce": secrets.token_hex(4)}
"""


def generate(root: Path, count: int) -> dict[str, int]:
    """Write `count` modules under `root` (100 per package); return planted findings by code."""
    planted: dict[str, int] = dict.fromkeys(DEFECTS, 0)
    codes = list(DEFECTS)
    for n in range(count):
        package = root / f"pkg{n // 100:03d}"
        package.mkdir(parents=True, exist_ok=True)
        if n % 2 == 0:
            body = CLEAN
        else:
            code = codes[(n // 2) % len(codes)]
            planted[code] += 1
            body = DEFECTS[code]
        (package / f"handler_{n:05d}.py").write_text(HEADER.format(n=n) + body + FOOTER)
    return planted


def time_lint(tree: Path, jobs: int | None) -> tuple[float, list[dict[str, object]]]:
    """Wall time of one `quality lint` process on the tree, and its JSON findings."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "quality_cli", "lint", str(tree), "--format", "json"]
    if jobs is not None:
        command += ["--jobs", str(jobs)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"quality lint failed ({done.returncode}): {done.stderr.strip()}")
    return elapsed, json.loads(done.stdout)


def measure(tree: Path, runs: int, jobs: int | None, planted: dict[str, int]) -> list[float]:
    """Times of `runs` runs; exits when the findings are not exactly the planted ones."""
    times = []
    label = "auto" if jobs is None else str(jobs)
    for run in range(1, runs + 1):
        elapsed, findings = time_lint(tree, jobs)
        found = {code: sum(1 for f in findings if f["code"] == code) for code in planted}
        if found != planted or len(findings) != sum(planted.values()):
            raise SystemExit(f"findings {found} differ from the planted defects {planted}")
        times.append(elapsed)
        print(f"--jobs {label} run {run}: {elapsed:.2f} s")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="generate the tree here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="lint-bench-") as scratch:
        tree = args.keep or Path(scratch) / "tree"
        planted = generate(tree, args.files)
        lines = sum(p.read_text().count("\n") for p in tree.rglob("*.py"))
        results = {jobs: measure(tree, args.runs, jobs, planted) for jobs in (1, None)}
    print(f"files: {args.files} ({lines} lines); findings exactly as planted: {planted}")
    for jobs, times in results.items():
        median = statistics.median(times)
        label = "--jobs 1   " if jobs == 1 else "--jobs auto"
        print(
            f"{label}: median of {args.runs} runs {median:.2f} s -> {args.files / median:.0f} "
            f"files/s, {lines / median:.0f} lines/s (min {min(times):.2f}, max {max(times):.2f})"
        )
    one, auto = (statistics.median(results[j]) for j in (1, None))
    print(f"auto / 1 job speed-up: {one / auto:.2f}x")
    print(
        f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; load average "
        f"{os.getloadavg()[0]:.2f} (timings are wall time of a fresh process, imports included)"
    )


if __name__ == "__main__":
    main()
