"""What was reviewed is what runs: revisions are resolved to commits when planning, deployed as
those commits, and compared as commits, whether the service echoes a branch name or a sha."""

from __future__ import annotations

import json
import re
import urllib.request
from collections.abc import Callable
from pathlib import Path

from provisioner.emulator import Emulator
from tests.reconcile.helpers import hub_commit, live, mutations, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]


def _posted_revisions(emu: Emulator) -> list[object]:
    return [
        r["body"]["model"].get("revision")
        for r in emu.requests()
        if r["method"] in ("POST", "PUT") and r["path"].startswith("/v2/endpoint/")
    ]


def test_plan_shows_the_commit_a_create_deploys_and_apply_sends_it(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", model={"revision": "main"})
    write_spec(specs, "plain", namespace="acme")
    main = hub_commit(emulator, "gpt2", "main")
    plan = cli("plan", "--dir", str(specs))
    assert f"gpt2@main -> {main[:7]} on aws/us-east-1" in plan.out
    assert f"gpt2 (default branch -> {main[:7]}) on aws/us-east-1" in plan.out
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    assert _posted_revisions(emulator) == [main, main]  # a commit, never the name
    assert live(emulator)["svc"]["model"]["revision"] == main
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0


def test_a_moved_branch_is_an_update_to_its_new_commit(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", model={"revision": "main"})
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    old = hub_commit(emulator, "gpt2")
    new = emulator.move_branch("gpt2", "main")
    plan = cli("plan", "--dir", str(specs), "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert f"~ model.revision: {old[:7]} -> {new[:7]} (main)" in plan.out
    assert f"main is now at {new[:7]}; the endpoint runs {old[:7]}" in plan.out
    assert "changed outside provisioner" not in plan.out  # nobody touched the endpoint
    emulator.clear_requests()
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    assert _posted_revisions(emulator) == [new]
    assert live(emulator)["svc"]["model"]["revision"] == new
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0


def test_a_saved_plan_whose_branch_moved_is_refused_never_deployed_unreviewed(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", model={"revision": "main"})
    saved = tmp_path / "plan.json"
    assert cli("plan", "--dir", str(specs), "--out", str(saved)).code == 0
    reviewed = hub_commit(emulator, "gpt2", "main")
    (change,) = json.loads(saved.read_text())["changes"]
    assert (change["desired"]["revision"], change["revision_from"]) == (reviewed, "main")
    moved = emulator.move_branch("gpt2", "main")
    emulator.clear_requests()
    result = cli("apply", str(saved), "--dir", str(specs), "--auto-approve")
    assert result.code == 1, result.text
    assert "planned again now, the changes are not the saved plan's" in result.err
    assert f"gpt2@main -> {moved[:7]}" in result.out  # what it would deploy now, shown
    assert mutations(emulator) == [] and live(emulator) == {}


def _put_revision(emu: Emulator, name: str, revision: str) -> None:
    request = urllib.request.Request(
        f"{emu.url}/v2/endpoint/acme/{name}",
        method="PUT",
        data=json.dumps({"model": {"revision": revision}}).encode(),
        headers={"Authorization": "Bearer hf_demo", "Content-Type": "application/json"},
    )
    urllib.request.urlopen(request).close()


def test_a_live_branch_name_is_compared_as_the_commit_it_resolves_to(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """If the service echoes `main` rather than a sha, the plan still compares commits: the
    name's commit now (which commit such an endpoint runs cannot be read from the listing)."""
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", model={"revision": "main"})
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    _put_revision(emulator, "svc", "main")  # the emulator stores a name as given
    emulator.advance(60)
    assert live(emulator)["svc"]["model"]["revision"] == "main"
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0
    new = emulator.move_branch("gpt2")
    v1 = hub_commit(emulator, "gpt2", "v1")
    write_spec(specs, "svc", namespace="acme", model={"revision": "v1"})
    plan = cli("plan", "--dir", str(specs))
    assert f"~ model.revision: {new[:7]} -> {v1[:7]} (v1)" in plan.out


def test_unreadable_repositories_and_unknown_revisions_are_errors_at_the_spec(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "private", namespace="acme", model={"repository": "acme/private-model"})
    write_spec(specs, "gated", namespace="acme", model={"repository": "acme/gated-model"})
    write_spec(specs, "typo", namespace="acme", model={"revision": "mian"})
    write_spec(specs, "fine", namespace="acme")
    plan = cli("plan", "--dir", str(specs))
    assert plan.code == 1
    # Every problem in one run, each at the line and column of what to fix.
    for name, key in (("private", "repository"), ("gated", "repository"), ("typo", "revision")):
        assert re.search(rf"{name}\.yaml:\d+:\d+: error: model\.{key}: ", plan.err), plan.err
    assert "acme/private-model" in plan.err and "acme/gated-model" in plan.err
    assert "'mian' is not a branch, tag or commit of gpt2" in plan.err
    emulator.clear_requests()
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 1
    assert mutations(emulator) == []
    resolved = [r["path"] for r in emulator.requests() if r["path"].startswith("/api/models/")]
    assert len(resolved) == len(set(resolved)) == 4  # once per (repository, revision)


def test_a_users_own_models_deploy_and_one_made_private_is_an_error_at_its_spec(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """Models the emulator's catalog does not list are public models, as on the Hub, so a new
    user's spec deploys as it is; `set_visibility` is how a test makes one unreadable."""
    specs = tmp_path / "endpoints"
    write_spec(specs, "gen", namespace="acme", model={"repository": "openai-community/gpt2"})
    embed = {"repository": "BAAI/bge-base-en-v1.5", "task": "feature-extraction"}
    write_spec(specs, "embed", namespace="acme", model=embed)
    applied = cli("apply", "--dir", str(specs), "--auto-approve")
    assert applied.code == 0, applied.text
    for name, repository in (("gen", "openai-community/gpt2"), ("embed", embed["repository"])):
        assert live(emulator)[name]["model"]["revision"] == hub_commit(emulator, repository)
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0
    emulator.set_visibility("openai-community/gpt2", "private")
    emulator.move_branch("BAAI/bge-base-en-v1.5")  # so that something would be sent
    emulator.clear_requests()
    refused = cli("apply", "--dir", str(specs), "--auto-approve")
    assert refused.code == 1
    assert re.search(
        r"gen\.yaml:\d+:\d+: error: model\.repository: the Hub does not let this token read "
        r"'openai-community/gpt2' \(private, gated or absent\), so its revision cannot be "
        r"resolved: model info of openai-community/gpt2: 404 Repository not found",
        refused.err,
    ), refused.err
    assert mutations(emulator) == []


def test_a_spec_pinned_to_the_commit_it_runs_costs_no_model_info_call(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """A settled fleet of pinned specs plans without one Hub call per endpoint; a changed pin
    and an unpinned spec are still resolved."""
    specs = tmp_path / "endpoints"
    main = hub_commit(emulator, "gpt2", "main")
    for name in ("a", "b", "c"):
        write_spec(specs, name, namespace="acme", model={"revision": main})
    write_spec(specs, "floating", namespace="acme")
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    emulator.clear_requests()
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0
    resolved = [r["path"] for r in emulator.requests() if r["path"].startswith("/api/models/")]
    assert resolved == ["/api/models/gpt2"]  # the unpinned spec's default branch, once
    new = emulator.move_branch("gpt2", "main")
    write_spec(specs, "b", namespace="acme", model={"revision": new})
    emulator.clear_requests()
    plan = cli("plan", "--dir", str(specs), "--detailed-exitcode")
    assert plan.code == 2, plan.text
    assert f"~ model.revision: {main[:7]} -> {new[:7]}" in plan.out
    resolved = sorted(
        r["path"] for r in emulator.requests() if r["path"].startswith("/api/models/")
    )
    assert resolved == ["/api/models/gpt2", f"/api/models/gpt2/revision/{new}"]


def _revision_mark(path: Path) -> str:
    """`file:line:col` of the spec's `revision:` value."""
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        if text.lstrip().startswith("revision:"):
            return f"{path}:{number}:{text.index('revision:') + len('revision: ') + 1}"
    raise AssertionError(f"no revision in {path}")


def test_a_pinned_commit_the_hub_answers_with_another_is_an_error_never_deployed(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """A pin is what was reviewed: if model info names another sha for it (here a branch
    named like the commit shadows it, as a hostile or confused answer would), nothing is
    created or updated, under `require_pinned_revision` too."""
    specs = tmp_path / "endpoints"
    specs.mkdir()
    (specs / "_settings.yaml").write_text(
        "stack: team\nnamespace: acme\npolicies:\n  require_pinned_revision: true\n"
    )
    main = hub_commit(emulator, "gpt2", "main")
    write_spec(specs, "running", model={"revision": main})
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    pinned = hub_commit(emulator, "gpt2", "v2")
    other = emulator.move_branch("gpt2", pinned)  # model info for `pinned` now says `other`
    assert hub_commit(emulator, "gpt2", pinned) == other != pinned
    paths = [
        write_spec(specs, "running", model={"revision": pinned}),  # an update
        write_spec(specs, "new", model={"revision": pinned}),  # a create
    ]
    expected = (
        f"error: model.revision: the Hub answered commit {other} for pinned commit {pinned}: "
        "refusing to deploy a commit other than the pinned one"
    )
    emulator.clear_requests()
    for command in (("plan",), ("apply", "--auto-approve")):
        result = cli(*command, "--dir", str(specs))
        assert result.code == 1, result.text
        for path in paths:
            assert f"{_revision_mark(path)}: {expected}" in result.err, result.err
        assert other[:7] not in result.out
    assert mutations(emulator) == []
    assert live(emulator)["running"]["model"]["revision"] == main
    assert "new" not in live(emulator)
