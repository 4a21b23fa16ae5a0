"""`import` is lossless and valid: an endpoint made by hand, on any image variant, with a legacy
type or with min 0 and no timeout, imports to a spec that validates; the next plan adopts it
without touching its image, and after apply the image the service holds is byte-identical."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from huggingface_hub import HfApi
from huggingface_hub.cli.inference_endpoints import ENGINE_IMAGE_KEYS

from provisioner.emulator import Emulator, EmulatorConfig
from provisioner.emulator.images import VARIANTS
from provisioner.plan.desired import ENGINES
from provisioner.spec.model import NEEDS_IMAGE_URL, NO_IMAGE, Engine
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import live, unmanaged, write_spec
from tests.support.cli import Result
from tests.support.raw_http import call, create_body

Cli = Callable[..., Result]

NEURON = {"accelerator": "neuron", "instance_type": "inf2", "instance_size": "x1"}
CPU = {"instance_size": "x1"}

# One endpoint per `model.image` variant the emulator accepts, as `hf endpoints deploy` or the
# UI would make it: the image as the API takes it, the hardware, and the engine import names.
SAMPLES: dict[str, tuple[dict[str, Any] | None, dict[str, Any], str]] = {
    "huggingface": (None, CPU, "default"),
    "huggingfaceNeuron": (
        {"batchSize": 4, "neuronCache": "aws-neuron/optimum-neuron-cache", "sequenceLength": 4096},
        NEURON,
        "huggingface-neuron",
    ),
    "custom": ({"url": "ghcr.io/acme/app:1", "port": 8080}, CPU, "custom"),
    "tgi": (
        {"url": "ghcr.io/huggingface/text-generation-inference:3.0", "maxTotalTokens": 2048},
        CPU,
        "tgi",
    ),
    "tgiNeuron": (
        {
            "url": "ghcr.io/huggingface/text-generation-inference:3.3.6-neuron",
            "maxBatchSize": 4,
            "maxInputLength": 1024,
            "maxTotalTokens": 2048,
            "hfAutoCastType": "bf16",
            "hfNumCores": 2,
        },
        NEURON,
        "tgi-neuron",
    ),
    "tei": ({"url": "ghcr.io/huggingface/text-embeddings-inference:cpu-1.8"}, CPU, "tei"),
    "llamacpp": (
        {"url": "ghcr.io/ggml-org/llama.cpp:server", "ctxSize": 4096, "healthRoute": "/ready"},
        CPU,
        "llamacpp",
    ),
    "vLLM": ({"url": "vllm/vllm-openai:v0.10.0", "maxModelLen": 8192}, CPU, "vllm"),
    "sGLang": ({"url": "lmsysorg/sglang:v0.5.0", "port": 30001}, CPU, "sglang"),
    "vLLMNeuron": (
        {"url": "public.ecr.aws/neuron/vllm:0.9", "healthRoute": "/ping"},
        NEURON,
        "vllm-neuron",
    ),
    # Not known to huggingface_hub 2.4 (it forwards it as-is): imported as `keep`.
    "vLLMOmni": ({"url": "vllm/vllm-omni:v0.1", "tensorParallelSize": 1}, CPU, "keep"),
    "hfServe": ({"url": "ghcr.io/huggingface/hf-serve:0.1"}, CPU, "hf-serve"),
}


def test_every_variant_the_emulator_accepts_has_a_sample() -> None:
    assert set(SAMPLES) == set(VARIANTS)


def test_every_engine_but_keep_is_one_variant_with_its_image_rule() -> None:
    assert set(ENGINES) == set(Engine) - {Engine.KEEP}
    assert len({image.variant for image in ENGINES.values()}) == len(ENGINES)
    for engine, image in ENGINES.items():
        assert image.variant in VARIANTS, engine
        # No default image known <=> validate requires `image.url`.
        needs_url = VARIANTS[image.variant].needs_url and image.url is None
        assert needs_url == (engine in NEEDS_IMAGE_URL), engine
        assert (not VARIANTS[image.variant].needs_url) == (engine in NO_IMAGE), engine


def _plan(cli: Cli, specs: Path, address: str, **kw: Any) -> dict[str, Any]:
    result = cli("plan", "--dir", str(specs), "--json", **kw)
    assert result.code == 0, result.text
    (change,) = [c for c in json.loads(result.out)["changes"] if c["address"] == address]
    return dict(change)


def _import(cli: Cli, specs: Path, name: str, **kw: Any) -> Result:
    imported = cli("import", name, "--dir", str(specs), "--namespace", "acme", **kw)
    assert imported.code == 0, imported.text
    validated = cli("validate", "--dir", str(specs), **kw)
    assert validated.code == 0, validated.text
    return imported


def _apply_then_clean(cli: Cli, specs: Path, **kw: Any) -> None:
    applied = cli("apply", "--dir", str(specs), "--auto-approve", **kw)
    assert applied.code == 0, applied.text
    again = cli("plan", "--dir", str(specs), "--detailed-exitcode", **kw)
    assert again.code == 0, again.text


def _image_json(emulator: Emulator, name: str) -> str:
    return json.dumps(live(emulator)[name]["model"]["image"], sort_keys=True)


@pytest.mark.parametrize("variant", sorted(SAMPLES))
def test_import_adopts_any_variant_and_apply_keeps_its_image_byte_for_byte(
    variant: str, tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    image, hardware, engine = SAMPLES[variant]
    extra = {} if image is None else {"custom_image": {variant: image}}
    unmanaged(hub_for(emulator), "byhand", task="text-generation", **hardware, **extra)
    emulator.advance(60)
    before = _image_json(emulator, "byhand")
    assert variant in json.loads(before)
    specs = tmp_path / "endpoints"
    specs.mkdir()

    imported = _import(cli, specs, "byhand")
    text = (specs / "byhand.yaml").read_text()
    assert (f"engine: {engine}" in text) == (engine != "default"), text
    assert ("note:" in imported.err) == (engine == "keep"), imported.err
    change = _plan(cli, specs, "acme/byhand")
    assert [r["code"] for r in change["reasons"]] == ["adopting"]
    assert change["fields"] == []

    _apply_then_clean(cli, specs)
    assert _image_json(emulator, "byhand") == before
    assert "provisioner-stack-endpoints" in live(emulator)["byhand"]["tags"]


def test_keep_says_why_on_import_and_refuses_to_create_or_replace(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    omni = {"vLLMOmni": {"url": "vllm/vllm-omni:v0.1"}}
    unmanaged(hub_for(emulator), "omni", custom_image=omni, instance_size="x1")
    emulator.advance(60)
    specs = tmp_path / "endpoints"
    specs.mkdir()
    imported = _import(cli, specs, "omni")
    assert "note: acme/omni: it runs image variant 'vLLMOmni'" in imported.err
    assert "engine: keep" in (specs / "omni.yaml").read_text()

    path = write_spec(specs, "fresh", namespace="acme", model={"engine": "keep"})
    moved = (specs / "omni.yaml").read_text().replace("us-east-1", "eu-west-1")
    (specs / "omni.yaml").write_text(moved)
    result = cli("plan", "--dir", str(specs))
    assert result.code == 1
    assert f"{path}:5:11: error: model.engine keep leaves the image to an existing" in result.err
    assert "cannot create one" in result.err
    assert "(replacing acme/omni: compute.region us-east-1 -> eu-west-1" in result.err


def test_an_option_value_validate_refuses_is_left_out_and_kept_live(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    """The service takes any string for `pooling`; a spec may only say what TEI documents. The
    imported spec still validates (`_import` checks), and apply leaves the live value alone."""
    tei = {"url": "ghcr.io/huggingface/text-embeddings-inference:cpu-1.8", "pooling": "max"}
    unmanaged(
        hub_for(emulator), "embed", custom_image={"tei": {**tei, "maxBatchTokens": 4096}}, **CPU
    )
    emulator.advance(60)
    before = _image_json(emulator, "embed")
    specs = tmp_path / "endpoints"
    specs.mkdir()

    imported = _import(cli, specs, "embed")
    assert (
        "note: acme/embed: its model.engine_options pooling 'max' is not a value tei documents "
        "(validate would refuse it): the spec leaves it out, and the endpoint keeps it"
        in imported.err
    )
    text = (specs / "embed.yaml").read_text()
    assert "pooling" not in text and "max_batch_tokens: 4096" in text, text
    assert _plan(cli, specs, "acme/embed")["fields"] == []

    _apply_then_clean(cli, specs)
    assert _image_json(emulator, "embed") == before


def test_min_zero_without_timeout_imports_the_ui_default_and_plans_it(
    tmp_path: Path, cli: Cli, emulator: Emulator, hub_for: Callable[..., HfApi]
) -> None:
    unmanaged(hub_for(emulator), "idle", min_replica=0, max_replica=1)
    emulator.advance(60)
    before = live(emulator)["idle"]
    assert before["compute"]["scaling"]["scaleToZeroTimeout"] is None
    specs = tmp_path / "endpoints"
    specs.mkdir()

    imported = _import(cli, specs, "idle")
    assert "note: acme/idle: it has min_replicas 0 and no scale-to-zero timeout" in imported.err
    assert "scale_to_zero_timeout: 60" in (specs / "idle.yaml").read_text()
    change = _plan(cli, specs, "acme/idle")
    assert change["fields"] == [
        {
            "path": "scaling.scale_to_zero_timeout",
            "before": None,
            "after": 60,
            "forces_replacement": False,
            "sensitive": False,
        }
    ]

    _apply_then_clean(cli, specs)
    after = live(emulator)["idle"]
    assert after["compute"]["scaling"]["scaleToZeroTimeout"] == 60
    assert after["compute"]["scaling"]["minReplica"] == 0
    assert after["model"]["image"] == before["model"]["image"]


def _legacy_protected(data: Path) -> dict[str, Any]:
    """An endpoint from before `protected` was renamed: today the API coerces a new one to
    `private`, so it is made public, then its stored record is edited as an old one would be."""
    with Emulator(EmulatorConfig(speed=0, data_file=data)) as old:
        created = call("POST", f"{old.url}/v2/endpoint/acme", create_body("legacy"))
        assert created.status == 200, created.text
        old.advance(60)
    saved = json.loads(data.read_text())
    (record,) = saved["endpoints"]
    record["spec"]["type"] = "protected"
    data.write_text(json.dumps(saved))
    return dict(record["spec"]["model"]["image"])


def test_legacy_protected_type_imports_as_authenticated_and_is_left_as_it_is(
    tmp_path: Path, cli: Cli, hub_for: Callable[..., HfApi]
) -> None:
    """`protected` is today's `authenticated` under its old name: the import writes the new
    name with nothing to explain, and adopting it changes only the ownership tags (no type
    change is sent, so an endpoint the service goes on calling `protected` plans clean)."""
    data = tmp_path / "emulator.json"
    image = _legacy_protected(data)
    with Emulator(EmulatorConfig(speed=0, data_file=data)) as emu:
        hub_for(emu)
        ctx = context_for(emu)
        assert live(emu)["legacy"]["type"] == "protected"
        specs = tmp_path / "endpoints"
        specs.mkdir()

        imported = _import(cli, specs, "legacy", ctx=ctx)
        assert "legacy type" not in imported.err
        assert "type: authenticated" in (specs / "legacy.yaml").read_text()
        change = _plan(cli, specs, "acme/legacy", ctx=ctx)
        assert change["fields"] == [] and "adopt" in json.dumps(change["reasons"]), change

        _apply_then_clean(cli, specs, ctx=ctx)
        after = live(emu)["legacy"]
        assert after["type"] == "protected"
        assert after["model"]["image"] == image


@pytest.mark.parametrize("engine", sorted(ENGINE_IMAGE_KEYS))
def test_an_endpoint_deployed_with_hf_engine_imports_under_the_same_engine_name(
    engine: str, tmp_path: Path, cli: Cli, emulator: Emulator, hf_cli: Callable[..., Any]
) -> None:
    cpu = {"accelerator": "cpu", "instance_type": "intel-spr", "instance_size": "x1"}
    hardware = NEURON if engine.endswith("-neuron") else cpu
    flags = [f"--{key.replace('_', '-')}={value}" for key, value in hardware.items()]
    hf_cli(
        *("endpoints", "deploy", "deployed", "--repo", "gpt2", "--framework", "pytorch"),
        *("--vendor", "aws", "--region", "us-east-1", "--namespace", "acme", *flags),
        *("--engine", engine, "--custom-image", "ghcr.io/acme/server:1", "--port", "8081"),
    )
    emulator.advance(60)
    before = _image_json(emulator, "deployed")
    assert ENGINE_IMAGE_KEYS[engine] in json.loads(before)
    specs = tmp_path / "endpoints"
    specs.mkdir()

    _import(cli, specs, "deployed")
    assert f"engine: {engine}\n" in (specs / "deployed.yaml").read_text()
    change = _plan(cli, specs, "acme/deployed")
    assert (change["action"], change["fields"]) == ("update", [])
    _apply_then_clean(cli, specs)
    assert _image_json(emulator, "deployed") == before
