"""What an unattended run may change, end to end against the emulator: a scheduled apply makes
only the schedules' changes and leaves the rest (a hand change, an unapplied spec change, a
create) alone, saying so, unless the stack opts into `self_heal`; `suspend` makes unattended
applies no-ops; `ignore_changes` fields never plan; a field changed by hand stays "changed
outside provisioner" when the spec changes it too."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import yaml
from huggingface_hub import HfApi

from provisioner.cli.context import Context
from provisioner.emulator import Emulator
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import live, mutations, write_spec

# Europe/Madrid, Friday 26 March 2027: the instants the schedule tests use.
from tests.reconcile.test_schedules import FRIDAY_AFTERNOON, FRIDAY_MORNING, FRIDAY_NIGHT
from tests.support.cli import Result

Cli = Callable[..., Result]


def _scheduled(specs: Path, *, outside: str = "paused", **extra: object) -> None:
    write_spec(
        specs,
        "svc",
        namespace="acme",
        scaling={"min_replicas": 0, "max_replicas": 3, "scale_to_zero_timeout": 30},
        schedule={
            "timezone": "Europe/Madrid",
            "windows": [{"days": "mon-fri", "hours": "08:00-20:00", "min_replicas": 1}],
            "outside": outside,
        },
        **extra,
    )


def _at(emulator: Emulator, now: str, **environ: str) -> Context:
    return context_for(emulator, PROVISIONER_NOW=now, **environ)


def _by_hand(emulator: Emulator, name: str, **changes: int) -> None:
    """An on-call engineer's `hf endpoints update`, through the real client."""
    HfApi(endpoint=emulator.url, token="hf_demo").update_inference_endpoint(
        name, namespace="acme", **changes
    )
    emulator.clear_requests()


def _scaling(emulator: Emulator, name: str) -> tuple[int, int]:
    found = live(emulator)[name]["compute"]["scaling"]
    return found["minReplica"], found["maxReplica"]


def _settings(specs: Path, **values: object) -> None:
    specs.mkdir(parents=True, exist_ok=True)
    (specs / "_settings.yaml").write_text(yaml.safe_dump({"stack": "team", **values}))


def test_a_scheduled_run_leaves_a_hand_change_alone_and_drift_reports_it(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    _scheduled(specs)
    morning = _at(emulator, FRIDAY_MORNING)
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=morning).code == 0
    assert _scaling(emulator, "svc") == (1, 3)
    _by_hand(emulator, "svc", min_replica=2)

    afternoon = _at(emulator, FRIDAY_AFTERNOON)
    run = cli("apply", "--dir", str(specs), "--auto-approve", "--scheduled", ctx=afternoon)
    assert run.code == 0, run.text
    assert mutations(emulator) == []
    assert _scaling(emulator, "svc") == (2, 3)  # the incident's change survives
    assert "left alone by this unattended run: scaling.min_replicas changed outside" in run.out
    assert "~ scaling.min_replicas: 2 -> 1" in run.out
    assert "Left alone: 1 endpoint(s)" in run.out

    # The daily drift check (a plain plan) still sees it.
    drift = cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=afternoon)
    assert drift.code == 2, drift.text
    assert "scaling.min_replicas changed outside provisioner" in drift.out
    assert cli("plan", "--dir", str(specs), "--drift", ctx=afternoon).code == 2

    # At the window's edge the schedule's pause is made, and nothing else.
    night = _at(emulator, FRIDAY_NIGHT)
    edge = cli("apply", "--dir", str(specs), "--auto-approve", "--scheduled", ctx=night)
    assert edge.code == 0, edge.text
    assert [m for m, _ in mutations(emulator)] == ["POST"]
    assert live(emulator)["svc"]["status"]["state"] == "paused"


def test_a_scheduled_run_makes_no_spec_change_nor_create_unless_self_heal(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    _settings(specs)
    _scheduled(specs)
    morning = _at(emulator, FRIDAY_MORNING)
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=morning).code == 0
    # A merged change whose apply did not run, a new spec, and a hand change.
    _scheduled(specs, model={"repository": "gpt2", "task": "text-generation", "env": {"A": "1"}})
    write_spec(specs, "extra", namespace="acme")
    _by_hand(emulator, "svc", max_replica=2)

    afternoon = _at(emulator, FRIDAY_AFTERNOON)
    run = cli("apply", "--dir", str(specs), "--auto-approve", "--scheduled", ctx=afternoon)
    assert run.code == 0, run.text
    assert mutations(emulator) == []
    assert set(live(emulator)) == {"svc"}
    assert "acme/extra: kept" in run.out and "does not exist yet" in run.out
    assert "model.env.A differs from the spec" in run.out
    assert "Left alone: 2 endpoint(s)" in run.out

    # Opted in: the scheduled run converges everything, as a full apply would.
    _settings(specs, self_heal=True)
    healed = cli("apply", "--dir", str(specs), "--auto-approve", "--scheduled", ctx=afternoon)
    assert healed.code == 0, healed.text
    assert set(live(emulator)) == {"svc", "extra"}
    assert _scaling(emulator, "svc") == (1, 3)
    assert live(emulator)["svc"]["model"]["env"] == {"A": "1"}
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=afternoon).code == 0


def test_a_scheduled_run_of_a_stack_without_schedules_changes_nothing(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "plain", namespace="acme")
    run = cli(
        "apply", "--dir", str(specs), "--auto-approve", "--scheduled", ctx=context_for(emulator)
    )
    assert run.code == 0, run.text
    assert mutations(emulator) == [] and live(emulator) == {}
    assert "left alone by this unattended run: does not exist yet" in run.out


def test_suspend_makes_unattended_applies_no_ops(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    _settings(specs, suspend="incident 4711: hands off")
    write_spec(specs, "svc", namespace="acme")
    ctx = context_for(emulator)
    for flag in ("--unattended", "--scheduled"):
        run = cli("apply", "--dir", str(specs), "--auto-approve", flag, ctx=ctx)
        assert run.code == 0, run.text
        assert "Stack 'team' is suspended" in run.err
        assert "_settings.yaml:2:10: suspend is set (incident 4711: hands off)" in run.err
        assert emulator.requests() == []  # not even a read
    # The switch without a commit, during an incident.
    _settings(specs)
    switched = context_for(emulator, PROVISIONER_SUSPEND="paging on-call")
    run = cli("apply", "--dir", str(specs), "--auto-approve", "--unattended", ctx=switched)
    assert run.code == 0 and "PROVISIONER_SUSPEND is set ('paging on-call')" in run.err
    assert live(emulator) == {}
    # A person's apply still applies, and an empty or "false" variable suspends nothing.
    off = context_for(emulator, PROVISIONER_SUSPEND="false")
    assert cli("apply", "--dir", str(specs), "--auto-approve", "--unattended", ctx=off).code == 0
    assert set(live(emulator)) == {"svc"}


def test_an_ignored_field_never_plans_and_an_update_keeps_its_live_value(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    (specs / "team").mkdir(parents=True)
    (specs / "_defaults.yaml").write_text(
        yaml.safe_dump({"ignore_changes": ["scaling.min_replicas"]})
    )
    write_spec(
        specs / "team", "svc", namespace="acme", scaling={"min_replicas": 1, "max_replicas": 2}
    )
    ctx = context_for(emulator)
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    assert _scaling(emulator, "svc") == (1, 2)  # created with the declared value
    _by_hand(emulator, "svc", min_replica=2)

    plan = cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=ctx)
    assert plan.code == 0, plan.text
    assert "ignored (ignore_changes: left as it is live):" in plan.out
    assert "~ scaling.min_replicas: 2 -> 1" in plan.out
    markdown = cli("plan", "--dir", str(specs), "--format", "markdown", ctx=ctx)
    assert (
        "Ignored (`ignore_changes`, left as it is live): `scaling.min_replicas` 2" in markdown.out
    )

    # Another field changes: the update sends it and leaves the ignored one as it is live.
    write_spec(
        specs / "team", "svc", namespace="acme", scaling={"min_replicas": 1, "max_replicas": 3}
    )
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    assert _scaling(emulator, "svc") == (2, 3)
    # A spec's own list replaces its defaults': `[]` ignores nothing.
    write_spec(
        specs / "team",
        "svc",
        namespace="acme",
        scaling={"min_replicas": 1, "max_replicas": 3},
        ignore_changes=[],
    )
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=ctx).code == 2


def test_an_unknown_ignored_field_is_an_error_at_its_line(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", ignore_changes=["scaling.min_replica", "protect"])
    result = cli("validate", "--dir", str(specs), ctx=context_for(emulator))
    assert result.code == 1
    assert "svc.yaml" in result.err and "ignore_changes[0]" in result.err
    assert "ignore_changes[1]" in result.err


def test_a_hand_change_stays_changed_outside_when_the_spec_changes_it_too(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", scaling={"min_replicas": 1, "max_replicas": 2})
    ctx = context_for(emulator)
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    _by_hand(emulator, "svc", max_replica=4)
    write_spec(specs, "svc", namespace="acme", scaling={"min_replicas": 1, "max_replicas": 3})
    plan = cli("plan", "--dir", str(specs), ctx=ctx)
    assert plan.code == 0, plan.text
    assert "scaling.max_replicas changed outside provisioner" in plan.out
    assert "~ scaling.max_replicas: 4 -> 3" in plan.out


def test_a_failing_deploy_is_re_created_once_per_spec_by_unattended_runs(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    emulator.add_fault({"kind": "fail_deploy", "namespace": "acme", "name": "svc"})
    ctx = context_for(emulator)
    apply = ("apply", "--dir", str(specs), "--auto-approve", "--no-wait")
    assert cli(*apply, "--unattended", ctx=ctx).code == 0  # the merge's create
    emulator.advance(600)
    assert live(emulator)["svc"]["status"]["state"] == "failed"

    # The next unattended run re-creates it once (and the deploy fails again)...
    emulator.add_fault({"kind": "fail_deploy", "namespace": "acme", "name": "svc"})
    first = cli(*apply, "--unattended", ctx=ctx)
    assert first.code == 0, first.text
    assert ("POST", "/v2/endpoint/acme") in mutations(emulator)
    emulator.advance(600)
    assert live(emulator)["svc"]["status"]["state"] == "failed"
    # ...and never again for the same spec, however many runs follow.
    for _ in range(2):
        again = cli(*apply, "--unattended", ctx=ctx)
        assert again.code == 0, again.text
        assert mutations(emulator) == []
        assert (
            "  = acme/svc: kept\n"
            "      failed again after an unattended apply re-created it for this spec (Endpoint "
            "failed to deploy): not re-created again unattended (change the spec, or apply by "
            f"hand)\n      spec: {specs / 'svc.yaml'}:1:7\n"
        ) in again.out, again.out
        assert "Left alone: 1 endpoint(s)" in again.out
    # A person's apply still re-creates it; so would a change of its spec.
    assert "-/+ acme/svc: replace" in cli("plan", "--dir", str(specs), ctx=ctx).out
    assert cli(*apply, ctx=ctx).code == 0
    assert ("POST", "/v2/endpoint/acme") in mutations(emulator)


def test_a_scheduled_run_makes_the_window_edge_scaling_and_says_it_is_the_schedule(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """At the window's edge the scheduled run sends the outside's replica bounds, as the
    schedule's doing: not a change made outside provisioner, nothing left alone."""
    specs = tmp_path / "endpoints"
    _scheduled(specs, outside="scaled-to-zero")
    morning = _at(emulator, FRIDAY_MORNING)
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=morning).code == 0
    assert _scaling(emulator, "svc") == (1, 3)
    emulator.clear_requests()
    night = _at(emulator, FRIDAY_NIGHT)
    run = cli("apply", "--dir", str(specs), "--auto-approve", "--scheduled", ctx=night)
    assert run.code == 0, run.text
    assert (
        "  ~ acme/svc: update\n"
        "      scaling.min_replicas, scaling.scale_to_zero_timeout set by its schedule\n"
    ) in run.out
    assert "changed outside" not in run.out and "Left alone" not in run.out
    assert [m for m, _ in mutations(emulator)] == ["PUT"]
    assert _scaling(emulator, "svc") == (0, 3)


def test_a_scheduled_run_leaves_an_endpoint_scaled_to_zero_by_hand_alone(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """Inside its window, but scaled to zero by hand: resuming it is not the schedule's to do
    (its window did not just open), so the scheduled run leaves it and says what a full apply
    would do."""
    specs = tmp_path / "endpoints"
    _scheduled(specs)
    morning = _at(emulator, FRIDAY_MORNING)
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=morning).code == 0
    HfApi(endpoint=emulator.url, token="hf_demo").scale_to_zero_inference_endpoint(
        "svc", namespace="acme"
    )
    emulator.clear_requests()
    assert live(emulator)["svc"]["status"]["state"] == "scaledToZero"
    afternoon = _at(emulator, FRIDAY_AFTERNOON)
    run = cli("apply", "--dir", str(specs), "--auto-approve", "--scheduled", ctx=afternoon)
    assert run.code == 0, run.text
    assert (
        "left alone by this unattended run: scaled to zero although min_replicas is 1: resumed"
    ) in run.out
    assert mutations(emulator) == []
    assert live(emulator)["svc"]["status"]["state"] == "scaledToZero"


def test_a_scheduled_run_shows_the_replacement_and_the_delete_it_leaves_alone(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """A region move (a replacement) and a removed spec (a delete) are a person's to apply:
    the scheduled run makes neither, costs nothing, and shows each with what forces it."""
    specs = tmp_path / "endpoints"
    _settings(specs)
    _scheduled(specs)
    write_spec(specs, "old", namespace="acme")
    morning = _at(emulator, FRIDAY_MORNING)
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=morning).code == 0
    _scheduled(specs, compute={"region": "eu-west-1"})
    (specs / "old.yaml").unlink()
    emulator.clear_requests()
    afternoon = _at(emulator, FRIDAY_AFTERNOON)
    run = cli("apply", "--dir", str(specs), "--auto-approve", "--scheduled", ctx=afternoon)
    assert run.code == 0, run.text
    assert mutations(emulator) == []
    assert set(live(emulator)) == {"svc", "old"}
    alone = "      left alone: a scheduled run makes only the schedules' changes (no self_heal)\n"
    assert (
        f"  = acme/old: kept\n{alone}"
        "      left alone by this unattended run: its spec was removed\n\n"
        f"  = acme/svc: kept\n{alone}"
    ) in run.out, run.out
    assert (
        "      left alone by this unattended run: compute.region us-east-1 -> eu-west-1 cannot "
        "change in place: deleted, then created again (the URL changes)\n"
        '        ~ compute.region: "us-east-1" -> "eu-west-1"   # forces replacement\n'
    ) in run.out, run.out
    assert "No changes this run." in run.out
