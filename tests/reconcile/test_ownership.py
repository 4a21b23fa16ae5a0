"""Ownership: a stack changes only its own endpoints; protection; removal; destroy; import."""

from __future__ import annotations

import json
import shlex
import shutil
from collections.abc import Callable
from pathlib import Path

from huggingface_hub import HfApi

from provisioner.emulator import Emulator
from tests.reconcile.helpers import live, mutations, unmanaged, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]


def test_unmanaged_endpoint_survives_apply_and_destroy(
    specs: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    unmanaged(hub_for(emulator), "hand-made", tags=["by-hand"])
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    plan = cli("plan", "--dir", str(specs))
    assert "hand-made" not in plan.out
    # Unprotect production so destroy can remove everything the stack owns.
    for path in (specs / "prod").glob("*.yaml"):
        if path.name != "_defaults.yaml":
            path.write_text(path.read_text() + "protect: false\n")
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    destroyed = cli("destroy", "--dir", str(specs), "--auto-approve")
    assert destroyed.code == 0, destroyed.text
    assert "Destroy complete: 5 deleted." in destroyed.out
    assert set(live(emulator)) == {"hand-made"}


def test_spec_colliding_with_unmanaged_endpoint_is_an_error_suggesting_import(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    unmanaged(hub_for(emulator), "taken")
    specs = tmp_path / "endpoints"
    write_spec(specs, "taken", namespace="acme")
    emulator.clear_requests()
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    assert (
        f"{specs}/taken.yaml:1:7: error: acme/taken already exists and is not managed by "
        "provisioner: add `adopt: true` to this spec to take it over"
    ) in result.err
    assert mutations(emulator) == []
    # The import it suggests works as printed, from anywhere: it names the stack's folder.
    suggested = (
        "remove this spec and run `provisioner import taken --namespace acme "
        f"--dir {specs} --api-url {emulator.url}`"
    )
    assert suggested in result.err, result.err
    (specs / "taken.yaml").unlink()
    imported = cli(*shlex.split(suggested.split("`")[1])[1:])
    assert imported.code == 0, imported.text
    assert (specs / "taken.yaml").is_file()


def test_two_stacks_never_touch_each_other(tmp_path: Path, cli: Cli, emulator: Emulator) -> None:
    team_a, team_b = tmp_path / "team-a", tmp_path / "team-b"
    write_spec(team_a, "alpha", namespace="acme")
    write_spec(team_b, "beta", namespace="acme")
    first = cli("apply", "--dir", str(team_a), "--auto-approve")
    assert first.code == 0
    assert "warning: the stack is named 'team-a' after its directory" in first.err
    assert cli("apply", "--dir", str(team_b), "--auto-approve").code == 0
    # team-b destroying itself leaves team-a alone; a spec for team-a's endpoint is refused.
    assert cli("destroy", "--dir", str(team_b), "--auto-approve").code == 0
    assert set(live(emulator)) == {"alpha"}
    write_spec(team_b, "alpha", namespace="acme")
    result = cli("plan", "--dir", str(team_b))
    assert result.code == 1
    assert "acme/alpha is managed by stack 'team-a', not 'team-b'" in result.err


def test_removed_spec_deletes_its_endpoint_unless_protected(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    loose = write_spec(specs, "loose", namespace="acme")
    guarded = write_spec(specs, "guarded", namespace="acme", protect=True)
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    loose.unlink()
    guarded.unlink()
    write_spec(specs, "keeper", namespace="acme")  # the stack is not empty
    plan = cli("plan", "--dir", str(specs))
    assert "- acme/loose: delete" in plan.out
    assert "its spec was removed" in plan.out
    assert "= acme/guarded: kept (protected)" in plan.out
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    assert set(live(emulator)) == {"guarded", "keeper"}


def test_destroy_refuses_protected_endpoints(tmp_path: Path, cli: Cli, emulator: Emulator) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "plain", namespace="acme")
    write_spec(specs, "precious", namespace="acme", protect=True)
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    result = cli("destroy", "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    assert (
        "refused to destroy protected endpoint: acme/precious; apply 'protect: false' to it first"
        in result.err
    )
    assert set(live(emulator)) == {"precious"}


def test_protected_endpoint_is_not_replaced(tmp_path: Path, cli: Cli, emulator: Emulator) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "precious", namespace="acme", protect=True)
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    path = write_spec(
        specs, "precious", namespace="acme", protect=True, compute={"region": "eu-west-1"}
    )
    emulator.clear_requests()
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    assert f"{path}:1:7: error: acme/precious is protected and must be replaced" in result.err
    assert "compute.region us-east-1 -> eu-west-1 cannot change in place" in result.err
    assert mutations(emulator) == []


def test_protect_declared_with_a_region_move_refuses_the_replacement(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """One edit adds `protect: true` and moves the region: the endpoint carries no protection
    tag yet, but the spec's protection is honoured and nothing is deleted."""
    specs = tmp_path / "endpoints"
    write_spec(specs, "precious", namespace="acme")
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    assert "provisioner-protected" not in live(emulator)["precious"]["tags"]
    path = write_spec(
        specs, "precious", namespace="acme", protect=True, compute={"region": "eu-west-1"}
    )
    emulator.clear_requests()
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    assert f"{path}:1:7: error: acme/precious is protected and must be replaced" in result.err
    assert mutations(emulator) == []
    assert live(emulator)["precious"]["provider"]["region"] == "us-east-1"


def test_protect_declared_on_a_failed_endpoint_refuses_the_replacement(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """A failed endpoint is replaced, unless its spec now says `protect: true` (its tags, from
    before the edit, do not): then the plan refuses and says why, and it stays as it is."""
    specs = tmp_path / "endpoints"
    write_spec(specs, "precious", namespace="acme")
    emulator.add_fault(
        {"kind": "fail_deploy", "namespace": "acme", "name": "precious", "message": "OOM"}
    )
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 1
    assert live(emulator)["precious"]["status"]["state"] == "failed"
    path = write_spec(specs, "precious", namespace="acme", protect=True)
    emulator.clear_requests()
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 1
    assert (
        f"{path}:1:7: error: acme/precious is protected and must be replaced (it is in state "
        "failed: OOM; the service cannot repair a failed endpoint)"
    ) in result.err
    assert mutations(emulator) == []
    assert live(emulator)["precious"]["status"]["state"] == "failed"


def test_import_then_apply_only_adds_ownership_tags(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    api = hub_for(emulator)
    unmanaged(
        api,
        "legacy",
        task="text-generation",
        min_replica=0,
        max_replica=2,
        scale_to_zero_timeout=30,
        env={"MAX_INPUT_LENGTH": "512"},
        tags=["team-x"],
    )
    emulator.advance(60)
    specs = tmp_path / "endpoints"
    shutil.copytree(Path(__file__).resolve().parents[2] / "endpoints", specs)
    imported = cli("import", "legacy", "--dir", str(specs))
    assert imported.code == 0, imported.text
    written = specs / "legacy.yaml"
    assert f"wrote {written}" in imported.out
    text = written.read_text()
    assert "adopt: true" in text
    assert "revision:" not in text  # a resolved commit is the service's default, not a choice
    assert "HF_TOKEN" not in text
    assert cli("validate", "--dir", str(specs)).code == 0

    plan = cli("plan", "--dir", str(specs))
    block = plan.out.split("acme/legacy")[1].split("\n\n")[0]
    assert "adopting an existing endpoint" in block
    assert "~ " not in block and "+ " not in block  # no field changes: only the tags
    emulator.clear_requests()
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    legacy = live(emulator)["legacy"]
    assert "provisioner-stack-acme-inference" in legacy["tags"]
    assert legacy["model"]["env"]["MAX_INPUT_LENGTH"] == "512"
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0


def test_import_refuses_to_overwrite_and_reports_unknown_names(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    unmanaged(hub_for(emulator), "legacy")
    specs = tmp_path / "endpoints"
    (specs).mkdir()
    (specs / "legacy.yaml").write_text("# mine\n")
    result = cli("import", "legacy", "--dir", str(specs), "--namespace", "acme")
    assert result.code == 1
    assert "exists; not overwritten" in result.err
    assert (specs / "legacy.yaml").read_text() == "# mine\n"
    missing = cli("import", "nope", "--dir", str(specs), "--namespace", "acme")
    assert missing.code == 1
    assert "no endpoint named nope in namespace acme" in missing.err


def test_image_with_registry_credentials_is_never_sent_back(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    """The API redacts registry credentials, so echoing the image would wipe them: updates
    leave the image out, and a change to it is refused with a way forward."""
    unmanaged(
        hub_for(emulator),
        "private-img",
        framework="custom",
        custom_image={"url": "registry.example.com/app:1", "port": 8080},
        container_registry_username="robot",
        container_registry_password="registry-password-123",
    )
    specs = tmp_path / "endpoints"
    specs.mkdir()
    assert cli("import", "private-img", "--dir", str(specs), "--namespace", "acme").code == 0
    emulator.clear_requests()
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    (put,) = [r for r in emulator.requests() if r["method"] == "PUT"]
    assert list(put["body"]) == ["tags"]  # adopting sends only the ownership tags
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0
    path = specs / "private-img.yaml"
    path.write_text(path.read_text().replace("app:1", "app:2"))
    result = cli("plan", "--dir", str(specs))
    assert result.code == 1
    assert "acme/private-img pulls its image with registry credentials" in result.err
    assert "model.image.url" in result.err


def _retag(api: HfApi, name: str, tags: list[str], *, protected: bool = False) -> None:
    """Give an applied endpoint the tags an older provisioner wrote (`provisioner.stack=...`)."""
    digest = next(t for t in tags if t.startswith("provisioner-applied-"))
    old = [t for t in tags if not t.startswith("provisioner")]
    old += [
        "provisioner.stack=endpoints",
        "provisioner.applied=" + digest.removeprefix("provisioner-applied-"),
    ]
    if protected:
        old.append("provisioner.protected")
    api.update_inference_endpoint(name, namespace="acme", tags=old)


def _codes(cli: Cli, specs: Path) -> dict[str, list[str]]:
    result = cli("plan", "--dir", str(specs), "--json")
    assert result.code == 0, result.text
    changes = json.loads(result.out)["changes"]
    return {c["address"]: [r["code"] for r in c["reasons"]] for c in changes}


def test_old_ownership_tags_are_read_and_rewritten_by_a_tags_only_update(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    """An endpoint applied before the conservative tag form is still owned, protected and its
    digest known; the first apply only rewrites its tags, and the next plan is clean."""
    api = hub_for(emulator)
    specs = tmp_path / "endpoints"
    write_spec(specs, "kept", namespace="acme", tags=["team-x"], protect=True)
    write_spec(specs, "gone", namespace="acme")
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    applied = live(emulator)
    assert {"provisioner-stack-endpoints", "provisioner-protected"} <= set(applied["kept"]["tags"])
    _retag(api, "kept", applied["kept"]["tags"], protected=True)
    _retag(api, "gone", applied["gone"]["tags"])
    emulator.advance(60)

    # Still owned (deleted with its spec) and still protected (kept) with the old tags.
    (specs / "kept.yaml").rename(tmp_path / "kept.yaml")
    (specs / "gone.yaml").rename(tmp_path / "gone.yaml")
    assert _codes(cli, specs) == {
        "acme/gone": ["spec-removed"],
        "acme/kept": ["spec-removed", "protected-kept"],
    }
    # Its digest is known: an unchanged spec plans only the rewrite, no field changes.
    (tmp_path / "kept.yaml").rename(specs / "kept.yaml")
    (tmp_path / "gone.yaml").rename(specs / "gone.yaml")
    assert _codes(cli, specs) == {
        "acme/gone": ["ownership-tags-rewritten"],
        "acme/kept": ["ownership-tags-rewritten"],
    }
    text = cli("plan", "--dir", str(specs)).out
    assert "ownership tags rewritten in the conservative form" in text
    assert "~ tags" not in text

    emulator.clear_requests()
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    puts = [r for r in emulator.requests() if r["method"] == "PUT"]
    assert sorted(r["name"] for r in puts) == ["gone", "kept"]
    assert all(set(r["body"]) == {"tags"} for r in puts)
    after = live(emulator)
    assert sorted(after["kept"]["tags"]) == sorted(applied["kept"]["tags"])
    assert sorted(after["gone"]["tags"]) == sorted(applied["gone"]["tags"])
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0


def test_a_refused_image_change_names_the_first_three_fields_and_counts_the_rest(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    """The refusal names what the spec changes in the image: three fields by name, then how
    many more, so a long list stays one readable line."""
    unmanaged(
        hub_for(emulator),
        "private-img",
        framework="custom",
        custom_image={"url": "registry.example.com/app:1", "port": 8080, "healthRoute": "/up"},
        container_registry_username="robot",
        container_registry_password="registry-password-123",
    )
    specs = tmp_path / "endpoints"
    specs.mkdir()
    assert cli("import", "private-img", "--dir", str(specs), "--namespace", "acme").code == 0
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    path = specs / "private-img.yaml"
    imported = path.read_text()
    assert "port: 8080" in imported and "health_route: /up" in imported, imported
    three = imported.replace("app:1", "app:2").replace("8080", "8081").replace("/up", "/ok")
    path.write_text(three)
    result = cli("plan", "--dir", str(specs))
    assert result.code == 1, result.text
    assert (
        "cannot change the image (model.image.health_route, model.image.port, model.image.url) "
        "without wiping them"
    ) in result.err
    path.write_text(three.replace("engine: custom", "engine: tgi"))
    result = cli("plan", "--dir", str(specs))
    assert result.code == 1, result.text
    assert (
        "cannot change the image (model.engine, model.image.health_route, model.image.port and "
        "1 more) "
        "without wiping them"
    ) in result.err


def test_a_protected_endpoint_refused_a_move_names_every_field_that_forces_it(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "precious", namespace="acme", protect=True)
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    path = write_spec(
        specs,
        "precious",
        namespace="acme",
        protect=True,
        compute={"vendor": "gcp", "region": "us-east4"},
    )
    result = cli("plan", "--dir", str(specs))
    assert result.code == 1, result.text
    assert (
        f"{path}:1:7: error: acme/precious is protected and must be replaced (compute.vendor aws "
        "-> gcp, compute.region us-east-1 -> us-east4 cannot change in place); apply "
        "'protect: false' first, then this change\n"
    ) in result.err


def test_a_protected_endpoint_that_failed_without_a_message_is_refused_in_plain_words(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """The service does not always say why a deployment failed: the refusal then says only
    that it failed, with no empty or placeholder message."""
    specs = tmp_path / "endpoints"
    path = write_spec(specs, "precious", namespace="acme", protect=True)
    emulator.add_fault({"kind": "fail_deploy", "namespace": "acme", "name": "precious"})
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 1
    emulator.add_fault(
        {
            "kind": "corrupt_listing",
            "namespace": "acme",
            "name": "precious",
            "remove": ["status.message", "status.errorMessage"],
        }
    )
    result = cli("plan", "--dir", str(specs))
    assert result.code == 1, result.text
    assert (
        f"{path}:1:7: error: acme/precious is protected and must be replaced (it is in state "
        "failed; the service cannot repair a failed endpoint); apply 'protect: false' first, "
        "then this change\n"
    ) in result.err
