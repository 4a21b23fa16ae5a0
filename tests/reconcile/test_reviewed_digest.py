"""Apply on merge applies what was reviewed: the pull request's plan shows a changes digest, and
`apply --reviewed-digest` (what the merge job runs, re-planning with its own tool on the merged
commit) changes nothing unless its own plan has that digest. An upstream branch move, another
merge, or a hand change between review and merge each stop it, with nothing sent."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from huggingface_hub import HfApi

from provisioner.emulator import Emulator
from tests.reconcile.helpers import live, mutations, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]
DIGEST = re.compile(r"Changes digest: (sha256:[0-9a-f]{64})")


def _reviewed(cli: Cli, specs: Path) -> str:
    """The digest the pull request's plan shows (its text, markdown and JSON agree)."""
    text = cli("plan", "--dir", str(specs))
    found = DIGEST.search(text.out)
    assert found, text.out
    markdown = cli("plan", "--dir", str(specs), "--format", "markdown").out
    assert f"<!-- provisioner-changes-digest: {found[1]} -->" in markdown
    document = json.loads(cli("plan", "--dir", str(specs), "--json").out)
    assert document["changes_digest"] == found[1]
    return found[1]


def _stack(tmp_path: Path) -> Path:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", model={"revision": "main"})
    (specs / "_settings.yaml").write_text("stack: team\n")
    return specs


def test_the_reviewed_plan_applies_and_is_stable_across_plans(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = _stack(tmp_path)
    digest = _reviewed(cli, specs)
    assert _reviewed(cli, specs) == digest  # planned again: the same digest
    merged = cli("apply", "--dir", str(specs), "--auto-approve", "--reviewed-digest", digest)
    assert merged.code == 0, merged.text
    assert "Apply complete: 1 created" in merged.text
    # A "no changes" review has a digest too, and a merge that changes nothing matches it.
    quiet = json.loads(cli("plan", "--dir", str(specs), "--json").out)["changes_digest"]
    assert quiet != digest
    emulator.clear_requests()
    again = cli("apply", "--dir", str(specs), "--auto-approve", "--reviewed-digest", quiet)
    assert again.code == 0, again.text
    assert mutations(emulator) == []


def test_a_branch_that_moved_after_review_is_never_deployed(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = _stack(tmp_path)
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    write_spec(specs, "svc", namespace="acme", model={"revision": "main"}, tags=["reviewed"])
    digest = _reviewed(cli, specs)
    running = live(emulator)["svc"]["model"]["revision"]
    emulator.move_branch("gpt2", "main")  # upstream pushes to main between review and merge
    emulator.clear_requests()
    merged = cli("apply", "--dir", str(specs), "--auto-approve", "--reviewed-digest", digest)
    assert merged.code == 1
    assert "this plan is not the one that was reviewed" in merged.err
    assert f"the review saw {digest}. Nothing was changed" in merged.err
    assert "a revision moved upstream" in merged.err
    assert "~ model.revision" in merged.out  # the plan it refused is shown
    assert mutations(emulator) == []
    assert live(emulator)["svc"]["model"]["revision"] == running


def test_a_second_merge_or_a_hand_change_after_review_stops_the_apply(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    specs = _stack(tmp_path)
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    write_spec(specs, "svc", namespace="acme", model={"revision": "main"}, tags=["first"])
    first = _reviewed(cli, specs)
    # Another pull request, merged first, adds an endpoint the first review never showed.
    write_spec(specs, "other", namespace="acme")
    emulator.clear_requests()
    stale = cli("apply", "--dir", str(specs), "--auto-approve", "--reviewed-digest", first)
    assert stale.code == 1 and "not the one that was reviewed" in stale.err
    assert mutations(emulator) == []
    (specs / "other.yaml").unlink()
    # Someone changes the endpoint by hand between review and merge.
    hub_for(emulator).update_inference_endpoint("svc", namespace="acme", max_replica=3)
    emulator.clear_requests()
    reverted = cli("apply", "--dir", str(specs), "--auto-approve", "--reviewed-digest", first)
    assert reverted.code == 1 and "not the one that was reviewed" in reverted.err
    assert mutations(emulator) == []


def test_a_malformed_digest_is_refused_before_any_request(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = _stack(tmp_path)
    emulator.clear_requests()
    done = cli("apply", "--dir", str(specs), "--auto-approve", "--reviewed-digest", "abc123")
    assert done.code == 1
    assert "Invalid value for --reviewed-digest" in done.err
    assert "'sha256:' and 64 hexadecimal digits" in done.err
    assert emulator.requests() == []
