"""Rows of figures (medians of the runs), and the two results files: `results.json` (every figure
and the environment) and `results.md` (the table the README shows)."""

from __future__ import annotations

import json
import statistics
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.measure import Sample
from bench.targets import Verdict


@dataclass(frozen=True)
class Figures:
    wall: float
    cpu: float
    rss_mib: float
    runs: int

    @classmethod
    def of(cls, samples: list[Sample]) -> Figures:
        return cls(
            wall=statistics.median(s.wall for s in samples),
            cpu=statistics.median(s.cpu for s in samples),
            rss_mib=max(s.rss_mib for s in samples),
            runs=len(samples),
        )


@dataclass
class Row:
    scenario: str
    size: int
    namespaces: int
    ours: Figures
    baseline: Figures | None = None
    floor: Figures | None = None  # `bench.floor` over the same folder and fleet, same runs
    calls: dict[str, int] = field(default_factory=dict)  # by route, of the last run of ours
    verdicts: list[Verdict] = field(default_factory=list)
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.baseline is None or self.ours.wall <= 0:
            return None
        return self.baseline.wall / self.ours.wall

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["ratio"] = self.ratio
        doc["verdicts"] = [{**asdict(v), "result": v.word} for v in self.verdicts]
        return doc


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def _calls(calls: dict[str, int]) -> str:
    short = {
        k.replace("/v2/endpoint", "").replace("{ns}", "ns").replace("{name}", "name"): v
        for k, v in calls.items()
    }
    return ", ".join(f"{k} {v}" for k, v in short.items()) or "-"


def markdown(rows: list[Row], environment: dict[str, Any]) -> str:
    head = (
        "| scenario | endpoints | ns | wall (median) | CPU | peak RSS | baseline wall | ratio "
        "| API calls (ours, last run) | targets |\n"
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|\n"
    )
    lines = []
    for r in rows:
        base = _seconds(r.baseline.wall) if r.baseline else "-"
        ratio = f"{r.ratio:.1f}x" if r.ratio is not None else "-"
        targets = "<br>".join(f"{v.word} {v.target}: {v.figure}" for v in r.verdicts) or "-"
        note = f" ({r.note})" if r.note else ""
        lines.append(
            f"| {r.scenario}{note} | {r.size:,} | {r.namespaces} | {_seconds(r.ours.wall)} "
            f"| {_seconds(r.ours.cpu)} | {r.ours.rss_mib:.0f} MiB | {base} | {ratio} "
            f"| {_calls(r.calls)} | {targets} |"
        )
    env = environment
    big = f" ({env.get('runs_at_5000')} at 5,000)" if any(r.size >= 5000 for r in rows) else ""
    foot = (
        f"\n{env['cpus']} CPUs, Python {env['python']}, commit {env['commit']}, emulator latency "
        f"{env['latency_ms']} ms, speed {env['speed']:g}x, median of {env['runs']} interleaved "
        f"runs{big}, whole run "
        f"{env['total_seconds']:.0f} s, load average {env.get('load_average', '?')} at the end.\n"
    )
    return head + "\n".join(lines) + "\n" + foot


def write(out_dir: Path, rows: list[Row], environment: dict[str, Any]) -> tuple[Path, Path]:
    verdicts = [v for r in rows for v in r.verdicts]
    doc = {
        "environment": environment,
        "rows": [r.to_json() for r in rows],
        "summary": {
            "pass": sum(v.ok for v in verdicts),
            "fail": sum(not v.ok for v in verdicts),
        },
    }
    json_path, md_path = out_dir / "results.json", out_dir / "results.md"
    json_path.write_text(json.dumps(doc, indent=2) + "\n")
    md_path.write_text(markdown(rows, environment))
    return json_path, md_path
