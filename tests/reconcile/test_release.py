"""`provisioner release NAME`: stop managing an endpoint without deleting it, so that another
stack can import it (issue: CLI, "as `terraform state rm`")."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from provisioner.emulator import Emulator
from tests.reconcile.helpers import apply_ok, live, mutations, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]


def _stack(specs: Path, stack: str, *names: str, **fields: object) -> None:
    specs.mkdir(parents=True, exist_ok=True)
    (specs / "_settings.yaml").write_text(f"stack: {stack}\nnamespace: acme\n")
    for name in names:
        write_spec(specs, name, **fields)


def test_release_moves_an_endpoint_to_another_stack_without_redeploying_it(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    _stack(one, "one", "a", "b", tags=["team-x"], protect=True)
    _stack(two, "two")
    apply_ok(cli, one)
    (one / "b.yaml").unlink()
    emulator.clear_requests()

    result = cli("release", "b", "--dir", str(one), "--auto-approve")
    assert result.code == 0, result.text
    assert "acme/b: update (protected)" in result.out
    assert "released: this stack's ownership, protection and last-applied tags are removed" in (
        result.out
    )
    assert "Release complete: 1 released." in result.out
    assert [m for m, _ in mutations(emulator)] == ["PUT"]
    (put,) = [r for r in emulator.requests() if r["method"] == "PUT"]
    assert set(put["body"]) == {"tags"}  # tags only: nothing redeploys
    b = live(emulator)["b"]
    assert b["tags"] == ["team-x"] and b["status"]["state"] == "running"

    # The stack forgets it: no delete planned although its spec is gone; the history says so.
    plan = cli("plan", "--dir", str(one), "--detailed-exitcode")
    assert plan.code == 0, plan.text
    assert "acme/b" not in plan.out
    history = cli("history", "--dir", str(one), "--json")
    records = [json.loads(line) for line in history.out.splitlines()]
    # Records of the same second have no order among themselves: find it by its operation.
    (latest,) = [r for r in records if r["operation"] == "release"]
    assert latest["actions"][0]["address"] == "acme/b"
    assert latest["actions"][0]["action"] == "release"
    state = cli("state", "show", "--dir", str(one), "--json")
    assert "acme/b" not in state.out and "acme/a" in state.out

    # Another stack adopts it.
    imported = cli("import", "b", "--dir", str(two))
    assert imported.code == 0, imported.text
    apply_ok(cli, two)
    assert "provisioner-stack-two" in live(emulator)["b"]["tags"]


def test_release_refuses_an_endpoint_with_a_spec_or_of_another_stack(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    _stack(one, "one", "a")
    _stack(two, "two", "c")
    apply_ok(cli, one)
    apply_ok(cli, two)
    emulator.clear_requests()

    has_spec = cli("release", "a", "--dir", str(one), "--auto-approve")
    assert has_spec.code == 1
    assert "a.yaml:1:7: error: acme/a still has a spec in stack 'one': delete this spec" in (
        has_spec.err
    )
    other = cli("release", "acme/c", "nope", "--dir", str(one), "--auto-approve")
    assert other.code == 1
    assert "error: acme/c is managed by stack 'two', not 'one'" in other.err
    assert "error: acme/nope: no endpoint named nope in acme" in other.err
    assert mutations(emulator) == []


def test_release_asks_for_confirmation_without_auto_approve(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    one = tmp_path / "one"
    _stack(one, "one", "a")
    apply_ok(cli, one)
    (one / "a.yaml").unlink()
    emulator.clear_requests()
    result = cli("release", "a", "--dir", str(one))
    assert result.code == 1
    assert "refusing to release without confirmation" in result.err
    assert mutations(emulator) == []
