"""Simulator throughput: messages per second through the real handlers, traces and logs to files.

Runs each traffic size ``--repeat`` times (fresh output directory each time) and
prints the median wall time and throughput, and how throughput holds up as the
traffic grows (ratio to the smallest size). Timings are noisy on a shared machine:
compare medians, not single runs.

Usage: python benchmarks/simulate_bench.py [--repeat 3] [--sizes 40x30,40x150] [--strategy mint]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from handlers.simulation import SimulationConfig, simulate


def measure(users: int, messages: int, strategy: str, repeat: int) -> tuple[float, int, int]:
    """Median wall seconds, messages sent, and trace/log bytes written per run."""
    times, written, sent = [], 0, 0
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as out:
            config = SimulationConfig(
                out=Path(out), users=users, messages=messages, strategy=strategy
            )
            result = simulate(config)
            assert result.export_failures == 0
            times.append(result.elapsed_s)
            sent = result.messages
            written = result.trace_path.stat().st_size + result.log_path.stat().st_size
    return statistics.median(times), sent, written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--sizes", default="40x30,40x150", help="USERSxMESSAGES,... (2 sessions each)"
    )
    parser.add_argument("--strategy", default="mint")
    args = parser.parse_args()
    print(f"strategy {args.strategy}, 2 sessions per user, median of {args.repeat} runs")
    print(
        f"{'users x msgs':>12} {'messages':>9} {'median s':>9} {'msgs/s':>8} {'MB out':>7} {'ratio':>6}"
    )
    base = None
    for size in args.sizes.split(","):
        users, messages = (int(part) for part in size.split("x"))
        seconds, sent, written = measure(users, messages, args.strategy, args.repeat)
        rate = sent / seconds
        base = base or rate
        print(
            f"{size:>12} {sent:>9} {seconds:>9.3f} {rate:>8.0f} {written / 1e6:>7.1f}"
            f" {rate / base:>6.2f}"
        )


if __name__ == "__main__":
    main()
