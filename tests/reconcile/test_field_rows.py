"""Every row of the field table, end to end through the real client and the emulator.

Per row: a spec declaring the field is applied, and plans clean (spec -> Config -> wire ->
Config -> diff is the identity for it); the field alone is then edited, and the plan shows
exactly that change with the row's mode (update in place, or replace); applying it passes the
read-back verification, and the next plan is clean again. A row without a sample here fails.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from provisioner.emulator import Emulator
from provisioner.spec.fields import BY_SPEC, FIELDS, Mode
from tests.reconcile.helpers import plans_clean, write_spec
from tests.support.cli import Result
from tests.support.raw_http import call

Cli = Callable[..., Result]

CUSTOM = {"engine": "custom", "image": {"url": "ghcr.io/acme/app:1"}}
GPU = {"accelerator": "gpu", "instance_type": "nvidia-l4", "instance_size": "x1"}
SECRET = {"from_env": "SUPPORT_ASSISTANT_API_KEY"}
LINK = {"account_id": "123456789012", "region": "us-east-1"}


@dataclass(frozen=True)
class Sample:
    before: dict[str, Any]
    after: dict[str, Any]
    # Other fields that must change with this one (a vendor has its own regions).
    also: frozenset[str] = field(default_factory=frozenset)


SAMPLES: dict[str, Sample] = {
    # Another repository has its own commits: the plan deploys its default branch's.
    "model.repository": Sample(
        {}, {"model": {"repository": "distilgpt2"}}, frozenset({"model.revision"})
    ),
    "model.revision": Sample({"model": {"revision": "v1"}}, {"model": {"revision": "v2"}}),
    "model.task": Sample({}, {"model": {"task": "text-classification"}}),
    "model.framework": Sample({}, {"model": {"framework": "custom"}}),
    "model.image": Sample(
        {"model": CUSTOM}, {"model": {**CUSTOM, "image": {"url": "ghcr.io/acme/app:2"}}}
    ),
    "model.env": Sample({"model": {"env": {"A": "1"}}}, {"model": {"env": {"A": "2"}}}),
    "model.secrets": Sample(
        {"model": {"secrets": {"K": SECRET}}}, {"model": {"secrets": {"K": SECRET, "L": SECRET}}}
    ),
    "model.command": Sample({"model": CUSTOM}, {"model": {**CUSTOM, "command": ["serve"]}}),
    "model.args": Sample({"model": CUSTOM}, {"model": {**CUSTOM, "args": ["--port", "80"]}}),
    "compute.vendor": Sample(
        {}, {"compute": {"vendor": "gcp", "region": "us-east4"}}, frozenset({"compute.region"})
    ),
    "compute.region": Sample({}, {"compute": {"region": "eu-west-1"}}),
    "compute.accelerator": Sample(
        {}, {"compute": GPU}, frozenset({"compute.instance_type", "compute.instance_size"})
    ),
    "compute.instance_type": Sample(
        {"compute": GPU}, {"compute": {**GPU, "instance_type": "nvidia-t4"}}
    ),
    "compute.instance_size": Sample({}, {"compute": {"instance_size": "x4"}}),
    "scaling.min_replicas": Sample(
        {"scaling": {"max_replicas": 2}}, {"scaling": {"min_replicas": 2, "max_replicas": 2}}
    ),
    "scaling.max_replicas": Sample({}, {"scaling": {"max_replicas": 3}}),
    "scaling.scale_to_zero_timeout": Sample(
        {"scaling": {"min_replicas": 0, "scale_to_zero_timeout": 15}},
        {"scaling": {"min_replicas": 0, "scale_to_zero_timeout": 30}},
    ),
    "scaling.metric": Sample(
        {"scaling": {"metric": "hardware_usage", "threshold": 80}},
        {"scaling": {"metric": "pending_requests", "threshold": 80}},
    ),
    "scaling.threshold": Sample(
        {"scaling": {"metric": "pending_requests", "threshold": 4}},
        {"scaling": {"metric": "pending_requests", "threshold": 8}},
    ),
    "type": Sample({}, {"type": "public"}),
    "private_link": Sample(
        {"type": "private", "private_link": LINK},
        {"type": "private", "private_link": {**LINK, "account_id": "210987654321"}},
    ),
    "route.domain": Sample({}, {"route": {"domain": "api.example.com"}}),
    "route.path": Sample({}, {"route": {"path": "/v1"}}),
    "cache_http_responses": Sample({}, {"cache_http_responses": True}),
    "tags": Sample({"tags": ["a"]}, {"tags": ["a", "b"]}),
    "protect": Sample({}, {"protect": True}),
}


def test_every_row_has_a_sample() -> None:
    assert set(SAMPLES) == set(BY_SPEC)


def _plan(cli: Cli, specs: Path) -> dict[str, Any]:
    result = cli("plan", "--dir", str(specs), "--json")
    assert result.code == 0, result.text
    document: dict[str, Any] = json.loads(result.out)
    return document


@pytest.mark.parametrize("path", [f.spec for f in FIELDS])
def test_editing_one_field_changes_exactly_it(path: str, tmp_path: Path, cli: Cli) -> None:
    row, sample = BY_SPEC[path], SAMPLES[path]
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", **sample.before)
    applied = cli("apply", "--dir", str(specs), "--auto-approve")
    assert applied.code == 0, applied.text
    plans_clean(cli, specs)

    write_spec(specs, "svc", namespace="acme", **sample.after)
    (change,) = [c for c in _plan(cli, specs)["changes"] if c["action"] != "no-op"]
    changed = {f["path"] for f in change["fields"]}
    assert any(row.covers(p) for p in changed), changed
    assert all(row.covers(p) or p in sample.also for p in changed), changed
    expected = "replace" if row.mode is Mode.REPLACE else "update"
    assert change["action"] == expected

    applied = cli("apply", "--dir", str(specs), "--auto-approve")
    assert applied.code == 0, applied.text
    plans_clean(cli, specs)


def test_a_private_link_change_is_shown_with_the_spec_keys(tmp_path: Path, cli: Cli) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", namespace="acme", type="private", private_link=LINK)
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    moved = {**LINK, "account_id": "210987654321", "region": "eu-west-1"}
    write_spec(specs, "svc", namespace="acme", type="private", private_link=moved)
    plan = cli("plan", "--dir", str(specs))
    assert (
        '~ private_link: {"account_id": "123456789012", "region": "us-east-1"} -> '
        '{"account_id": "210987654321", "region": "eu-west-1"}   # forces replacement'
    ) in plan.out, plan.out


def test_an_image_provisioner_has_no_engine_for_is_named_as_the_service_names_it(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    """Changed outside to an image variant no engine maps to (`vLLMOmni`): the plan says what
    the endpoint runs now, not `null`."""
    specs = tmp_path / "endpoints"
    tgi = {"engine": "tgi", "image": {"url": "ghcr.io/huggingface/text-generation-inference:3"}}
    write_spec(specs, "svc", namespace="acme", model=tgi)
    assert cli("apply", "--dir", str(specs), "--auto-approve").code == 0
    omni = {"vLLMOmni": {"url": "vllm/vllm-omni:1", "port": 8000}}
    put = call("PUT", f"{emulator.url}/v2/endpoint/acme/svc", {"model": {"image": omni}})
    assert put.status == 200, put.text
    plan = cli("plan", "--dir", str(specs))
    assert '~ model.engine: "vLLMOmni" -> "tgi"' in plan.out, plan.out
