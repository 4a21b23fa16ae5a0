"""Progress output: plain lines for CI logs, a redrawn block on a terminal."""

from __future__ import annotations

from provisioner.apply.results import WaitRow
from provisioner.cli.progress import PlainReporter, TtyReporter


def rows(elapsed: float, state: str, done: bool = False) -> list[WaitRow]:
    return [
        WaitRow("acme/a", "running", state, elapsed, done=done),
        WaitRow("acme/b", "paused", "paused", elapsed, done=True),
    ]


def test_plain_reporter_prints_changes_once_and_summarises_periodically() -> None:
    lines: list[str] = []
    reporter = PlainReporter(lines.append)
    reporter.waiting(rows(0, "pending"))
    reporter.waiting(rows(5, "pending"))
    reporter.waiting(rows(10, "initializing"))
    reporter.waiting(rows(35, "initializing"))
    reporter.waiting(rows(40, "running", done=True))
    states = [line for line in lines if not line.startswith("still waiting")]
    assert states == [
        "… acme/a: pending (target running, 0s)",
        "✓ acme/b: paused (target paused, 0s)",
        "… acme/a: initializing (target running, 10s)",
        "✓ acme/a: running (target running, 40s)",
    ]
    summaries = [line for line in lines if line.startswith("still waiting")]
    assert summaries == ["still waiting for 1 endpoint after 35s: acme/a (initializing)"]


def test_tty_reporter_redraws_one_line_per_endpoint_in_place() -> None:
    frames: list[str] = []
    reporter = TtyReporter(frames.append)
    reporter.waiting(rows(0, "pending"))
    reporter.waiting(rows(65, "running", done=True))
    assert frames[0].startswith("\x1b[2K")  # first frame: nothing to move back over
    assert frames[1].startswith("\x1b[2F")  # back up over the two lines drawn before
    assert "\x1b[2K  ✓ acme/a: running (target running, 1m05s)" in frames[1]
    assert frames[1].count("\n") == 1
