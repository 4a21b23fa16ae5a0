"""A create plan shows everything the endpoint will be created with, not only a summary line
(issue: CLI, "a reviewer cannot see the env or the engine options of a new endpoint")."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from provisioner.emulator import Emulator
from tests.reconcile.conftest import context_for
from tests.reconcile.helpers import write_spec
from tests.support.cli import Result

Cli = Callable[..., Result]
TOKEN_LIKE = "hf_" + "abcdefghijklmnopqrstuvwxyzABCDEFGH"


def test_a_create_lists_env_engine_options_scaling_and_tags_masking_secret_looking_env(
    tmp_path: Path, cli: Cli, emulator: Emulator
) -> None:
    specs = tmp_path / "endpoints"
    write_spec(
        specs,
        "llm",
        model={
            "engine": "tgi",
            "engine_options": {"max_input_length": 1024, "quantize": "bitsandbytes"},
            "env": {"LOG_LEVEL": "debug", "UPSTREAM_API_TOKEN": TOKEN_LIKE},
            "command": ["serve"],
        },
        compute={"accelerator": "gpu", "instance_type": "nvidia-t4", "instance_size": "x1"},
        scaling={"min_replicas": 1, "max_replicas": 2, "metric": "hardware_usage", "threshold": 80},
        route={"path": "/v1"},
        tags=["team-nlp"],
    )
    (specs / "_settings.yaml").write_text("stack: team\nnamespace: acme\n")
    ctx = context_for(emulator, UPSTREAM=TOKEN_LIKE)  # the leak check looks for this value
    result = cli("plan", "--dir", str(specs), ctx=ctx)
    assert result.code == 0, result.text
    block = result.out.split("acme/llm: create", 1)[1].split("\n\n", 1)[0]
    head, lines = block.splitlines()[:4], [line.strip() for line in block.splitlines()[5:]]
    assert head[-1].strip().startswith("monthly cost: $0.00 -> $"), block  # T4 x1, 1-2 replicas
    assert lines == [
        '+ model.task: "text-generation"',
        '+ model.framework: "pytorch"',
        '+ model.image.url: "ghcr.io/huggingface/text-generation-inference:3.3.6"',
        "+ model.image.port: 80",
        '+ model.image.health_route: "/health"',
        "+ model.engine_options.max_input_length: 1024",
        '+ model.engine_options.quantize: "bitsandbytes"',
        '+ model.env.LOG_LEVEL: "debug"',
        "+ model.env.UPSTREAM_API_TOKEN: (sensitive)",
        '+ model.command: ["serve"]',
        '+ scaling.metric: "hardware_usage"',
        "+ scaling.threshold: 80.0",
        '+ route.path: "/v1"',
        '+ tags: ["team-nlp"]',
    ], block
    assert TOKEN_LIKE not in result.text
