"""`python -m bench [--quick]`: run the scenarios, print the table, write bench/results.json
and bench/results.md. BENCH_LATENCY_MS (default 50), BENCH_RUNS (default 3), BENCH_SPEED
(emulated seconds per second, default 5), BENCH_QUICK=1."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from bench.results import markdown, write
from bench.run import FULL, QUICK, Bench, Settings, environment, log


def main(argv: list[str]) -> int:
    quick = "--quick" in argv or os.environ.get("BENCH_QUICK", "") not in ("", "0")
    runs = int(os.environ.get("BENCH_RUNS", "2" if quick else "3"))
    settings = Settings(
        latency_ms=int(os.environ.get("BENCH_LATENCY_MS", "50")),
        speed=float(os.environ.get("BENCH_SPEED", "5")),
        runs=runs,
        big_runs=min(2, runs),
        quick=quick,
    )
    repo = Path(__file__).resolve().parent.parent
    out = Path(os.environ.get("BENCH_OUT", repo / "bench"))
    start = time.perf_counter()
    log(
        f"bench: {'quick' if quick else 'full'} run, latency {settings.latency_ms} ms, "
        f"speed {settings.speed:g}x, {settings.runs} runs each"
    )
    with tempfile.TemporaryDirectory(prefix="provisioner-bench-") as work:
        bench = Bench(repo, Path(work), settings)
        bench.all(QUICK if quick else FULL)
    env = environment(repo, settings, time.perf_counter() - start, bench.seconds_seeding)
    json_path, md_path = write(out, bench.rows, env)
    print(markdown(bench.rows, env))
    log(f"bench: wrote {json_path} and {md_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
