"""Running one whole process and measuring it: wall time, CPU (user + sys) and peak RSS of the
child, from `os.wait4`, so nothing of the harness itself is counted."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Sample:
    wall: float  # seconds
    cpu: float  # seconds, user + sys of the child
    rss_mib: float  # peak resident set size
    code: int  # exit status
    output: str  # stdout + stderr, for when an exit status is not the expected one


def run(argv: Sequence[str], *, env: Mapping[str, str], cwd: Path | None = None) -> Sample:
    """Run `argv` to completion; its output goes to a temporary file (never a pipe the harness
    would have to drain while timing)."""
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-run-{os.getpid()}.log"
    with log.open("w+b") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(
            list(argv),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=dict(env),
            cwd=cwd,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode("utf-8", "replace")
    log.unlink(missing_ok=True)
    return Sample(
        wall=wall,
        cpu=usage.ru_utime + usage.ru_stime,
        rss_mib=usage.ru_maxrss / 1024,  # KiB on Linux
        code=proc.returncode,
        output=text,
    )
