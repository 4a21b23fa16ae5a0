"""The assumptions the contract tests check, one per test, and the report table they make.

Each row names its test, where the assumption comes from (a row of section 10, "decisions", of
the team's API reference, or a row of the emulator README's behaviour table), what is assumed,
and whether provisioner relies on it (`relied`: the test fails when it does not hold) or only
records what the service does (provisioner is designed to work either way).

Rows of section 10 without a test, and why: "Scale to zero" (`X-Scale-Up-Timeout` needs an
endpoint idle for at least a minute and a cold start: too slow and costly for this budget),
"Token" (huggingface_hub strips whitespace client-side: nothing of the service to check).
"Engines" is checked for one engine, vLLM, and its options (creating one of each variant is out
of budget).

The report (`render`) is a pure function of the results, printed by the terminal-summary hook
and written to `acceptance-report.md` by `make acceptance`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

RELIED = "relied on"
RECORDED = "recorded"


@dataclass(frozen=True)
class Assumption:
    test: str
    source: str
    claim: str
    relied: bool


ASSUMPTIONS: tuple[Assumption, ...] = (
    Assumption(
        "test_pause_semantics",
        "§10 Pause; emulator: Pause, Resume",
        "pause right after create answers `paused` (as `state: paused` does); the replica "
        "counts after pause and after resume (the guide: 0/0 and 1/1) are recorded",
        relied=True,
    ),
    Assumption(
        "test_put_on_paused_keeps_it_paused",
        "§10 Pause; emulator: PUT on paused / scaledToZero",
        "a PUT without replica counts on a paused endpoint is stored and leaves it paused",
        relied=True,
    ),
    Assumption(
        "test_sparse_put_keeps_absent_fields",
        "§10 PUT body; emulator: PUT semantics",
        "a PUT keeps every field it does not carry (nested too)",
        relied=True,
    ),
    Assumption(
        "test_image_and_env_are_replaced_whole",
        "§10 PUT body; emulator: PUT semantics",
        "`model.image` and `model.env` in a PUT replace the stored ones whole",
        relied=True,
    ),
    Assumption(
        "test_secrets_echoed_or_not",
        "§10 PUT body (secrets); emulator: Secrets",
        "what the service returns for `model.secrets` (values, placeholder or nothing)",
        relied=False,
    ),
    Assumption(
        "test_conservative_tags_are_accepted",
        "§10 Tags; emulator: Optional top-level keys",
        "ownership tags in the conservative form are stored and returned exactly as sent",
        relied=True,
    ),
    Assumption(
        "test_the_longest_ownership_tag_is_accepted",
        "§10 Tags",
        "the longest ownership tag provisioner writes (`provisioner-stack-` and a stack name of "
        "40 characters, the most validate allows: 58 characters) is accepted and returned as "
        "sent, by the create's answer and by a GET",
        relied=True,
    ),
    Assumption(
        "test_tags_only_put_keeps_the_state",
        "§10 PUT body (tags only); emulator: PUT redeploys",
        "whether a tags-only PUT (the ownership-tag migration) redeploys the endpoint",
        relied=False,
    ),
    Assumption(
        "test_revision_echo",
        "§10 Revision; emulator: Revision",
        "whether a declared branch comes back as the branch or as a commit sha",
        relied=False,
    ),
    Assumption(
        "test_list_pagination_cursor",
        "§10 List pagination",
        "whether the list response pages (`nextCursor`) when given a page size; every endpoint "
        "is listed",
        relied=False,
    ),
    Assumption(
        "test_hf_token_injected_or_not",
        "§10 HF_TOKEN in env; emulator: Injected env",
        "whether the service adds `HF_TOKEN` to `model.env`",
        relied=False,
    ),
    Assumption(
        "test_hardware_list_carries_quota",
        "§10 Quota; emulator: Quota unit",
        "every row of `/v2/provider/{ns}` carries `quota.maxAccelerators` and "
        "`quota.usedAccelerators`",
        relied=True,
    ),
    Assumption(
        "test_resume_on_running_answers_already_running",
        "§10 Pause (resume); emulator: Resume, Endpoint URL traffic",
        "resume on a running endpoint is a 400 saying `already running`; its health route "
        "answers 200 once running",
        relied=True,
    ),
    Assumption(
        "test_name_reserved_after_delete",
        "emulator: Delete, Duplicate name",
        "whether a deleted endpoint's name can be taken again at once; the endpoint is gone "
        "(404) soon after its delete",
        relied=False,
    ),
    Assumption(
        "test_duplicate_name_is_a_conflict",
        "emulator: Duplicate name",
        "creating an endpoint whose name is taken is a 409",
        relied=True,
    ),
    Assumption(
        "test_hardware_updates_in_place",
        "emulator: PUT hardware",
        "a PUT of another instance size of the same type is accepted and stored",
        relied=True,
    ),
    Assumption(
        "test_endpoint_carries_the_keys_the_client_needs",
        "emulator: Top-level healthRoute, Optional top-level keys, Scaling defaults",
        "top-level `healthRoute`, `model.revision`, `model.task`, `status.createdAt`, `tags`; the "
        "default scaling metric is recorded",
        relied=True,
    ),
    Assumption(
        "test_a_32_character_name_is_accepted",
        "emulator: Name rule",
        "a name of 32 lowercase letters, digits and '-' (what validate allows) is accepted",
        relied=True,
    ),
    Assumption(
        "test_registry_credentials_come_back_as_a_marker",
        "emulator: Registry credentials",
        "an image pulled with registry credentials comes back with a `credentials` key (so "
        "provisioner never sends it back without them); whether the password is echoed is "
        "recorded",
        relied=True,
    ),
    Assumption(
        "test_engine_options_kept_or_dropped",
        "§10 Engines; reference §2.4 (unknown fields inside a variant are dropped)",
        "a vLLM image with `maxModelLen`, `gpuMemoryUtilization` and `enforceEager` is accepted "
        "(an error answer fails); which options the create's answer and a GET keep is recorded "
        "(a dropped one would show as a change in every plan that declares it)",
        relied=False,
    ),
    Assumption(
        "test_update_right_after_resume_taken_or_refused",
        "§10 Pause (resume = resume, then PUT the declared scaling); emulator: "
        "refuse_updates_while_starting",
        "a PUT of the replica bounds sent right after a resume, while the endpoint starts, is "
        "either taken (200) or refused with a 409; which one is recorded (provisioner sends it "
        "at once and, refused, sends it again once the endpoint runs); any other answer fails",
        relied=False,
    ),
    Assumption(
        "test_logs_are_text_lines",
        "emulator: Logs",
        "`GET /v2/endpoint/{ns}/{name}/logs?tail=5` answers 200 with at most 5 text lines, and "
        "404 for an unknown endpoint; the content type and the line format are recorded",
        relied=True,
    ),
    Assumption(
        "test_bad_token_is_unauthorized",
        "emulator: Auth",
        "a token the service does not know is a 401",
        relied=True,
    ),
)

BY_TEST: Mapping[str, Assumption] = {a.test: a for a in ASSUMPTIONS}

TARGETS = ("emulator", "live")
HEADERS = ("assumption", "test", "kind", "emulator", "real service")


@dataclass(frozen=True)
class Result:
    """What one test saw on one target: `passed`, `failed` or `skipped`, why, and what it
    recorded (`observed`)."""

    outcome: str
    observed: tuple[str, ...] = ()
    detail: str = ""


def _cell(result: Result | None, *, relied: bool) -> str:
    if result is None:
        return "not run"
    words = {"passed": "holds", "failed": "**FAILS**", "skipped": "skipped"}[result.outcome]
    # A recorded observation is the answer itself; "holds" would only say the test ran.
    recorded = result.outcome == "passed" and not relied and result.observed
    parts = [] if recorded else [words]
    if result.outcome == "skipped" and result.detail:
        parts = [f"skipped ({result.detail})"]
    elif result.outcome == "failed" and result.detail:
        parts.append(result.detail)
    parts += list(result.observed)
    return "; ".join(parts).replace("|", "\\|").replace("\n", " ")


def render(results: Mapping[tuple[str, str], Result]) -> str:
    """The Markdown table: one row per assumption, a column per target."""
    lines = [
        "| " + " | ".join(HEADERS) + " |",
        "|" + "---|" * len(HEADERS),
    ]
    for a in ASSUMPTIONS:
        cells = [
            f"{a.claim} ({a.source})",
            f"`{a.test}`",
            RELIED if a.relied else RECORDED,
            *(_cell(results.get((a.test, target)), relied=a.relied) for target in TARGETS),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
