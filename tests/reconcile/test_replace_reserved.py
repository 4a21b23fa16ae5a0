"""A replacement whose name the service still reserves after the delete: the create is retried
for a bounded (emulated) time; when that is not enough, the failure says the old endpoint is gone,
the new one was not created, and that applying again creates it. And one whose old endpoint does
not go away within the wait: nothing is created, and the failure says so."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from huggingface_hub import HfApi

from provisioner.apply.executor import GONE_TIMEOUT_SECONDS, NAME_RESERVED_TIMEOUT_SECONDS
from provisioner.emulator import Durations, Emulator
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import live, unmanaged, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]


def _replace_under(emulator: Emulator, cli: Cli, specs: Path) -> Result:
    ctx = context_for(emulator)
    write_spec(specs, "svc", namespace="acme")
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    write_spec(specs, "svc", namespace="acme", compute={"region": "eu-west-1"})  # forces replace
    emulator.clear_requests()
    return cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx)


def _creates(emulator: Emulator) -> list[int]:
    return [
        r["status"]
        for r in emulator.requests()
        if r["method"] == "POST" and r["path"] == "/v2/endpoint/acme"
    ]


def test_a_replacement_waits_while_the_service_still_reserves_the_name(
    tmp_path: Path, cli: Cli, make_emulator: Callable[..., Emulator]
) -> None:
    emulator = make_emulator(durations=Durations(name_reserved=60))
    specs = tmp_path / "endpoints"
    result = _replace_under(emulator, cli, specs)
    assert result.code == 0, result.text
    creates = _creates(emulator)
    assert creates[0] == 409 and creates[-1] == 200, creates
    assert live(emulator)["svc"]["provider"]["region"] == "eu-west-1"
    assert (
        cli("plan", "--dir", str(specs), "--detailed-exitcode", ctx=context_for(emulator)).code == 0
    )


def test_a_replacement_that_cannot_create_says_the_old_one_is_gone_and_apply_again_creates_it(
    tmp_path: Path, cli: Cli, make_emulator: Callable[..., Emulator]
) -> None:
    emulator = make_emulator(durations=Durations(name_reserved=NAME_RESERVED_TIMEOUT_SECONDS * 2))
    specs = tmp_path / "endpoints"
    result = _replace_under(emulator, cli, specs)
    assert result.code == 1
    assert (
        "acme/svc: replace: the old endpoint was deleted but the new one was not created"
        in result.err
    ), result.err
    assert "already exists" in result.err
    assert "run apply again to create it" in result.err
    assert "Apply incomplete: none finished; 1 failed." in result.err  # not "nothing changed"
    assert live(emulator) == {}  # neither endpoint, as the message says
    emulator.advance(NAME_RESERVED_TIMEOUT_SECONDS)
    ctx = context_for(emulator)
    plan = cli("plan", "--dir", str(specs), ctx=ctx)
    assert "+ acme/svc: create" in plan.out
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    assert live(emulator)["svc"]["provider"]["region"] == "eu-west-1"


def test_a_replacement_whose_old_endpoint_never_goes_creates_nothing_and_says_so(
    tmp_path: Path, cli: Cli, make_emulator: Callable[..., Emulator]
) -> None:
    # The delete is accepted, but the endpoint stays visible for longer than apply waits.
    emulator = make_emulator(durations=Durations(delete_grace=GONE_TIMEOUT_SECONDS + 100))
    specs = tmp_path / "endpoints"
    result = _replace_under(emulator, cli, specs)
    assert result.code == 1
    assert (
        f"acme/svc: replace: the old endpoint was still there after {GONE_TIMEOUT_SECONDS:.0f}s; "
        "nothing was created, run apply again"
    ) in result.err
    assert _creates(emulator) == []


def test_a_replacement_waits_out_a_slow_delete(
    tmp_path: Path, cli: Cli, make_emulator: Callable[..., Emulator]
) -> None:
    emulator = make_emulator(durations=Durations(delete_grace=GONE_TIMEOUT_SECONDS - 100))
    emulator.advance(100_000)  # the wait is measured from its start, not from the epoch
    specs = tmp_path / "endpoints"
    result = _replace_under(emulator, cli, specs)
    assert result.code == 0, result.text
    assert live(emulator)["svc"]["provider"]["region"] == "eu-west-1"


def test_a_plain_create_whose_name_is_still_reserved_fails_at_once_and_apply_again_creates_it(
    tmp_path: Path, cli: Cli, make_emulator: Callable[..., Emulator], hub_for: Callable[..., HfApi]
) -> None:
    """Only a replacement waits for a reserved name: it deleted the old endpoint itself, a
    moment ago. A plain create did not; waiting minutes on a 409 it cannot explain would look
    like a hang, so it fails at once with the service's words, and the next apply creates it."""
    emulator = make_emulator(durations=Durations(name_reserved=60))
    api = hub_for(emulator)
    unmanaged(api, "svc")
    api.delete_inference_endpoint("svc", namespace="acme")  # by hand, just before
    emulator.advance(5)  # gone from GET and the list; the name is still reserved
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    emulator.clear_requests()
    ctx = context_for(emulator)
    result = cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx)
    assert result.code == 1, result.text
    assert "already exists" in result.err
    assert _creates(emulator) == [409]  # one try, no waiting
    assert live(emulator) == {}
    emulator.advance(60)
    assert cli("apply", "--dir", str(specs), "--auto-approve", ctx=ctx).code == 0
    assert list(live(emulator)) == ["svc"]
