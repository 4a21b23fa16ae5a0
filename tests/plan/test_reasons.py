"""Reasons are codes plus values in the plan, and sentences only in the renderer."""

from __future__ import annotations

import json

import pytest

from provisioner.hub.models import Fleet
from provisioner.plan.document import PlanFormatError, dumps, loads, plan_from_json
from provisioner.plan.model import (
    Action,
    FieldChange,
    Plan,
    Reason,
    ReasonCode,
    ResourceChange,
    Seen,
)
from provisioner.render.reasons import SENTENCES, describe, sentence
from provisioner.render.status import render_status

# A reason of each code with every value set, as a saved plan could carry it.
FULL = {
    code: Reason(
        code,
        paths=("compute.region", "scaling.max_replicas"),
        state="running",
        message="Error: container exited with code 137",
        min_replicas=1,
    )
    for code in ReasonCode
}


def change(*reasons: Reason, fields: tuple[FieldChange, ...] = ()) -> ResourceChange:
    return ResourceChange("acme", "svc", Action.UPDATE, reasons, Seen(True), fields=fields)


def test_every_code_has_a_sentence() -> None:
    """Adding a code without words for it fails here, not in someone's terminal."""
    assert set(SENTENCES) == set(ReasonCode)
    for reason in FULL.values():
        text = sentence(reason, change(reason))
        assert text
        assert "None" not in text


def test_codes_are_the_published_ones() -> None:
    """Pipelines filter on these strings: renaming or dropping one breaks them (add freely)."""
    published = {
        "does-not-exist", "paused-after-create", "adopting", "update-failed-retry",
        "resend-secrets", "fields-differ", "changed-outside", "pause-declared",
        "resumed-outside", "resume-declared", "paused-outside", "scaled-to-zero-resume",
        "failed-replace", "forces-replacement", "spec-removed", "destroy-requested",
        "protected-kept", "scaled-to-zero-idle", "matches", "ownership-tags-rewritten",
        "revision-moved",
    }  # fmt: skip
    assert published <= {code.value for code in ReasonCode}


def test_many_fields_are_shortened_but_all_kept_in_the_data() -> None:
    paths = tuple(f"model.env.K{i}" for i in range(5))
    reason = Reason(ReasonCode.FIELDS_DIFFER, paths=paths)
    assert describe(change(reason)) == (
        "model.env.K0, model.env.K1, model.env.K2 and 2 more differ from the spec"
    )
    assert loads(dumps(Plan("s", (change(reason),)))).changes[0].reasons[0].paths == paths


def test_forced_replacement_names_the_values() -> None:
    field = FieldChange("compute.region", "us-east-1", "eu-west-1", forces_replacement=True)
    reason = Reason(ReasonCode.FORCES_REPLACEMENT, paths=("compute.region",))
    assert describe(change(reason, fields=(field,))) == (
        "compute.region us-east-1 -> eu-west-1 cannot change in place: deleted, then created "
        "again (the URL changes)"
    )


def test_a_qualifier_joins_the_reason_before_it() -> None:
    reasons = (Reason(ReasonCode.SPEC_REMOVED), Reason(ReasonCode.PROTECTED_KEPT))
    assert describe(change(*reasons)).startswith("its spec was removed, but it is protected")
    reasons = (Reason(ReasonCode.DOES_NOT_EXIST), Reason(ReasonCode.PAUSED_AFTER_CREATE))
    assert describe(change(*reasons)) == (
        "does not exist yet; paused right after creation (state: paused)"
    )


def test_every_reason_survives_a_saved_plan() -> None:
    plan = Plan("s", tuple(change(r) for r in FULL.values()))
    assert loads(dumps(plan)) == plan


def test_unknown_reason_code_or_key_is_a_format_error() -> None:
    text = dumps(Plan("s", (change(Reason(ReasonCode.MATCHES)),)))
    with pytest.raises(PlanFormatError, match="checksum does not match"):
        loads(text.replace('"matches"', '"no-such-code"'))  # an edited file, first of all
    with pytest.raises(PlanFormatError, match="malformed plan"):
        plan_from_json(json.loads(text.replace('"matches"', '"no-such-code"')))
    with pytest.raises(PlanFormatError, match="unknown reason keys"):
        plan_from_json(json.loads(text.replace('"code": "matches"', '"code": "matches", "why": 1')))


def test_status_says_how_many_more_fields_differ() -> None:
    fields = tuple(FieldChange(f"model.env.K{i}", "a", "b") for i in range(5))
    plan = Plan("s", (change(Reason(ReasonCode.FIELDS_DIFFER), fields=fields),))
    assert "apply will update: model.env.K0, model.env.K1, model.env.K2 and 2 more" in (
        render_status(plan, Fleet(endpoints={}, hardware={}))
    )
