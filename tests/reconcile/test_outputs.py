"""`provisioner output` and the outputs block of `apply` (issue 23, the application side): each
endpoint's URL under the variable its spec names, in every format, after a create, a replacement
(the URL moves), and for endpoints that have no URL to give (paused, private, not created)."""

from __future__ import annotations

import json
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

from provisioner.emulator import Emulator
from tests.reconcile.conftest import SECRET_VALUE, context_for
from tests.reconcile.helpers import api_calls, live, write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]
LINK = {"account_id": "123456789012", "region": "us-east-1"}
APP_VARIABLE = {"url_env": "HUGGINGFACE_ENDPOINT_URL"}


def apply(cli: Cli, specs: Path) -> Result:
    result = cli("apply", "--dir", str(specs), "--auto-approve")
    assert result.code == 0, result.text
    return result


def url_of(emulator: Emulator, name: str) -> str:
    return str(live(emulator)[name]["status"]["url"])


def url_env_at(path: Path) -> str:
    """`FILE:LINE:COL` of the value of `url_env:` in the spec at `path`."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if "url_env:" in line:
            return f"{path}:{number}:{line.index('url_env:') + len('url_env: ') + 1}"
    raise AssertionError(f"no url_env in {path}")


def in_a_shell(script: str, exports: str) -> str:
    """What a POSIX shell makes of `exports` (eval'd), then `script`."""
    done = subprocess.run(
        ["sh", "-c", f'eval "$EXPORTS"; {script}'],
        env={"EXPORTS": exports, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return done.stdout


def test_every_format_gives_each_url_under_its_variable_after_apply(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "chat-bot", namespace="acme", outputs=APP_VARIABLE)
    write_spec(specs, "search-embeddings", namespace="acme")
    created = apply(cli, specs)
    chat, search = url_of(emulator, "chat-bot"), url_of(emulator, "search-embeddings")
    # The apply ends with the URLs it gave, after its summary.
    assert created.out.endswith(
        "Outputs changed:\n"
        f"  acme/chat-bot: HUGGINGFACE_ENDPOINT_URL={chat}\n"
        f"  acme/search-embeddings: SEARCH_EMBEDDINGS_URL={search}\n"
        f"Pass them on to the applications: `provisioner output --dir {shlex.quote(str(specs))}"
        f" --api-url {emulator.url}`.\n"
    ), created.out

    emulator.clear_requests()
    env = cli("output", "--dir", str(specs))
    assert env.code == 0, env.text
    # The live read: who the token is, and one list of the specs' namespace; nothing else.
    assert api_calls(emulator) == [("GET", "/api/whoami-v2"), ("GET", "/v2/endpoint/acme")]
    assert env.out == (
        f"export HUGGINGFACE_ENDPOINT_URL={shlex.quote(chat)}\n"
        f"export SEARCH_EMBEDDINGS_URL={shlex.quote(search)}\n"
    )
    assert in_a_shell('echo "$HUGGINGFACE_ENDPOINT_URL"', env.out) == f"{chat}\n"

    dotenv = cli("output", "--dir", str(specs), "--format", "dotenv")
    assert dotenv.out == f"HUGGINGFACE_ENDPOINT_URL={chat}\nSEARCH_EMBEDDINGS_URL={search}\n"

    document = json.loads(cli("output", "--dir", str(specs), "--format", "json").out)
    assert document["values"] == {"HUGGINGFACE_ENDPOINT_URL": chat, "SEARCH_EMBEDDINGS_URL": search}
    first = document["outputs"][0]
    assert first["address"] == "acme/chat-bot" and first["state"] == "running"
    assert first["reason"] is None and first["spec"].endswith("chat-bot.yaml")

    github = tmp_path / "github_output"
    github.write_text("EARLIER=kept\n")
    ctx = context_for(emulator, GITHUB_OUTPUT=str(github))
    step = cli("output", "chat-bot", "--dir", str(specs), "--format", "github", ctx=ctx)
    assert step.code == 0, step.text
    assert github.read_text() == f"EARLIER=kept\nHUGGINGFACE_ENDPOINT_URL={chat}\n"
    assert "1 of 1 outputs appended to $GITHUB_OUTPUT: HUGGINGFACE_ENDPOINT_URL" in step.err

    # Outputs are not part of the endpoint: the next plan is empty, and an apply with nothing
    # to do prints no outputs block.
    again = cli("apply", "--dir", str(specs), "--auto-approve")
    assert again.code == 0 and "Outputs changed" not in again.text


def test_github_format_without_github_output_is_an_error(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "chat", namespace="acme")
    result = cli("output", "--dir", str(specs), "--format", "github")
    assert result.code == 1
    assert "GITHUB_OUTPUT is not set" in result.err
    assert emulator.requests() == []  # refused before any call


def test_a_replacement_says_the_url_moved_and_output_gives_the_new_one(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", outputs=APP_VARIABLE)
    apply(cli, specs)
    old = url_of(emulator, "svc")
    write_spec(
        specs, "svc", namespace="acme", outputs=APP_VARIABLE, compute={"region": "eu-west-1"}
    )
    replaced = apply(cli, specs)
    new = url_of(emulator, "svc")
    assert new != old
    assert f"  acme/svc: HUGGINGFACE_ENDPOINT_URL moved: {old} -> {new}\n" in replaced.out
    dotenv = cli("output", "svc", "--dir", str(specs), "--format", "dotenv")
    assert dotenv.out == f"HUGGINGFACE_ENDPOINT_URL={new}\n"


def test_paused_private_and_not_created_endpoints_say_why_they_have_no_url(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "asleep", namespace="acme", state="paused")
    write_spec(specs, "inside", namespace="acme", type="private", private_link=LINK)
    write_spec(specs, "up", namespace="acme")
    apply(cli, specs)
    write_spec(specs, "later", namespace="acme")  # declared, not applied

    env = cli("output", "--dir", str(specs))
    assert env.code == 0, env.text  # the whole stack: notes, not a failure
    lines = env.out.splitlines()
    assert lines[0] == (
        "# ASLEEP_URL not set: acme/asleep is paused, and a paused endpoint has no URL; set "
        "`state: running` in its spec (or wait for its schedule) and run `provisioner apply "
        f"--dir {shlex.quote(str(specs))} --api-url {emulator.url}` to resume it"
    )
    assert lines[1].startswith(
        "# INSIDE_URL not set: acme/inside is private: reachable only through AWS PrivateLink"
    )
    assert lines[2].startswith("# LATER_URL not set: acme/later is not created yet; ")
    assert lines[3] == f"export UP_URL={shlex.quote(url_of(emulator, 'up'))}"
    # A shell reading them sets only the one there is, and never an empty value.
    shown = in_a_shell('echo "${ASLEEP_URL-unset} ${UP_URL:+set}"', env.out)
    assert shown == "unset set\n"

    document = json.loads(cli("output", "--dir", str(specs), "--format", "json").out)
    reasons = {o["name"]: (o["url"], o["state"], o["reason"]) for o in document["outputs"]}
    assert reasons == {
        "asleep": (None, "paused", "paused"),
        "inside": (None, "running", "private"),
        "later": (None, None, "not-created"),
        "up": (url_of(emulator, "up"), "running", None),
    }
    assert set(document["values"]) == {"UP_URL"}

    # Named on the command line, an endpoint without a URL fails the command, saying why.
    named = cli("output", "asleep", "up", "--dir", str(specs), "--format", "dotenv")
    assert named.code == 1
    assert "error: ASLEEP_URL not set: acme/asleep is paused" in named.err
    assert "UP_URL=" in named.out

    github = tmp_path / "github_output"
    ctx = context_for(emulator, GITHUB_OUTPUT=str(github))
    step = cli("output", "--dir", str(specs), "--format", "github", ctx=ctx)
    assert step.code == 0
    assert github.read_text() == f"UP_URL={url_of(emulator, 'up')}\n"  # no comment, no empty
    assert "note: ASLEEP_URL not set: acme/asleep is paused" in step.err


def test_pausing_takes_the_url_away_and_apply_says_so(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme")
    apply(cli, specs)
    write_spec(specs, "svc", namespace="acme", state="paused")
    paused = apply(cli, specs)
    assert "  acme/svc: SVC_URL not set now: it is paused, and a paused endpoint has no URL;" in (
        paused.out
    )


def test_one_variable_for_two_endpoints_of_one_output_is_an_error_at_their_specs(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    a = write_spec(specs, "a", namespace="acme", outputs=APP_VARIABLE)
    b = write_spec(specs, "b", namespace="acme", outputs=APP_VARIABLE)
    apply(cli, specs)  # many endpoints may share a variable, each read by its own application
    emulator.clear_requests()
    both = cli("output", "--dir", str(specs))
    assert both.code == 1
    assert (
        f"{url_env_at(b)}: error: outputs.url_env: HUGGINGFACE_ENDPOINT_URL is already the URL "
        f"variable of acme/a (at {url_env_at(a)})" in both.err
    ), both.err
    assert [r for r in emulator.requests() if r["path"].startswith("/v2/endpoint")] == []
    one = cli("output", "b", "--dir", str(specs))
    assert one.code == 0 and one.out.startswith("export HUGGINGFACE_ENDPOINT_URL=")


def test_a_bad_variable_name_is_a_located_error_and_outputs_change_no_digest(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    path = write_spec(specs, "svc", namespace="acme")
    apply(cli, specs)
    # Added to an applied spec, outputs change nothing live: the plan stays empty.
    write_spec(specs, "svc", namespace="acme", outputs=APP_VARIABLE)
    assert cli("plan", "--dir", str(specs), "--detailed-exitcode").code == 0
    write_spec(specs, "svc", namespace="acme", outputs={"url_env": "1-URL"})
    bad = cli("validate", "--dir", str(specs))
    assert bad.code == 1
    assert (
        f"{url_env_at(path)}: error: outputs.url_env: '1-URL' is invalid: use an environment "
        "variable name (letters, digits and '_', not starting with a digit), e.g. "
        "HUGGINGFACE_ENDPOINT_URL"
    ) in bad.err, bad.err
    (specs / "_defaults.yaml").write_text("outputs: {url_env: X_URL}\n")
    defaults = cli("validate", "--dir", str(specs))
    assert "'outputs' cannot be set in _defaults.yaml" in defaults.err


def test_a_hostile_url_is_never_given_to_an_application(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """A listed URL that would start another variable in a dotenv or GitHub output file (a
    newline), or that holds a secret value, is not given: its line says why."""
    specs = tmp_path / "endpoints"
    write_spec(specs, "inject", namespace="acme")
    write_spec(specs, "leak", namespace="acme")
    apply(cli, specs)
    hostile = {
        "inject": "https://x.endpoints.huggingface.cloud\nEVIL=1",
        "leak": f"https://x.endpoints.huggingface.cloud/{SECRET_VALUE}",
    }
    for name, url in hostile.items():
        emulator.add_fault(
            {
                "kind": "corrupt_listing",
                "namespace": "acme",
                "name": name,
                "set": {"status.url": url},
            }
        )
    github = tmp_path / "github_output"
    ctx = context_for(emulator, GITHUB_OUTPUT=str(github))
    step = cli("output", "--dir", str(specs), "--format", "github", ctx=ctx)
    assert step.code == 0, step.text
    assert not github.exists() or github.read_text() == ""
    dotenv = cli("output", "--dir", str(specs), "--format", "dotenv")
    assert dotenv.out.splitlines() == [
        "# INJECT_URL not set: acme/inject is listed with a URL that is not a plain http(s) URL, "
        "or holds a secret: not given",
        "# LEAK_URL not set: acme/leak is listed with a URL that is not a plain http(s) URL, "
        "or holds a secret: not given",
    ]
