"""The desired state: frozen values built from validated spec documents.

`None` on an optional field means "not declared": the reconciler leaves whatever the service
holds for it alone. Fields with a documented default (type, state, framework, engine, scaling
bounds, protect) always hold a value and are always enforced. This module owns the value types
and the engine tables; it reads no files.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from provisioner.spec.diagnostics import Mark
from provisioner.spec.loader import KeyPath, Located
from provisioner.spec.schedule import Schedule
from provisioner.spec.smoke import SmokeSpec

# Re-exported for plan.fields, which imports it from here; it lives in spec.secrets.


class EndpointType(enum.StrEnum):
    PUBLIC = "public"
    AUTHENTICATED = "authenticated"
    PRIVATE = "private"


class DesiredState(enum.StrEnum):
    RUNNING = "running"
    PAUSED = "paused"


class Engine(enum.StrEnum):
    """What runs the model: one `model.image` variant each (named as `hf endpoints deploy
    --engine` names them where it does), except `keep`."""

    DEFAULT = "default"
    HUGGINGFACE_NEURON = "huggingface-neuron"
    TGI = "tgi"
    TGI_NEURON = "tgi-neuron"
    VLLM = "vllm"
    VLLM_NEURON = "vllm-neuron"
    SGLANG = "sglang"
    TEI = "tei"
    LLAMACPP = "llamacpp"
    HF_SERVE = "hf-serve"
    CUSTOM = "custom"
    # Not an image: provisioner leaves the endpoint's image as it is, whatever its variant.
    # `import` writes it for a variant provisioner does not model, so adopting never rewrites
    # an image; with nothing to create from, it cannot create or replace an endpoint.
    KEEP = "keep"


class ScalingMetric(enum.StrEnum):
    PENDING_REQUESTS = "pending_requests"
    HARDWARE_USAGE = "hardware_usage"


# Which `engine_options` each engine understands. The API silently drops a field the image
# variant does not declare, which would make the plan never converge, so anything else is an
# error at validate time.
ENGINE_OPTIONS: Mapping[Engine, frozenset[str]] = MappingProxyType(
    {
        Engine.DEFAULT: frozenset(),
        Engine.HUGGINGFACE_NEURON: frozenset({"batch_size", "neuron_cache", "sequence_length"}),
        Engine.CUSTOM: frozenset(),
        Engine.HF_SERVE: frozenset(),
        Engine.KEEP: frozenset(),
        Engine.TGI: frozenset(
            {
                "max_batch_prefill_tokens",
                "max_batch_total_tokens",
                "max_input_length",
                "max_total_tokens",
                "disable_custom_kernels",
                "quantize",
            }
        ),
        Engine.TGI_NEURON: frozenset(
            {
                "max_batch_size",
                "max_input_length",
                "max_total_tokens",
                "hf_auto_cast_type",
                "hf_num_cores",
            }
        ),
        Engine.TEI: frozenset({"max_batch_tokens", "max_concurrent_requests", "pooling"}),
        Engine.VLLM: frozenset(
            {
                "tensor_parallel_size",
                "data_parallel_size",
                "kv_cache_dtype",
                "max_num_batched_tokens",
                "max_num_seqs",
                "max_model_len",
                "gpu_memory_utilization",
                "enforce_eager",
            }
        ),
        Engine.SGLANG: frozenset({"tensor_parallel_size"}),
        # huggingface_hub 2.4 lists only vLLM and SGLang as declaring `tensorParallelSize`.
        Engine.VLLM_NEURON: frozenset(),
        Engine.LLAMACPP: frozenset(
            {
                "model_path",
                "ctx_size",
                "n_parallel",
                "threads_http",
                "n_gpu_layers",
                "mode",
                "pooling",
                "variant",
                "mmproj_model_path",
            }
        ),
    }
)


# The values an option takes, where its engine documents a fixed list (for the images
# provisioner creates with, see `plan.desired.ENGINES`); any other option takes any value of its
# type. The service passes them to the container unchecked, so a typo (`pooling: clss`) would
# only fail the container at start. The JSON Schema says the same (a test holds them to each
# other): an `enum` on the option, or, for `pooling` (two engines, two lists), one per engine
# under `model.allOf`. `import` leaves out a live value that is not listed (`plan.imports`).
ENGINE_OPTION_VALUES: Mapping[str, Mapping[Engine, tuple[str, ...]]] = MappingProxyType(
    {
        "pooling": MappingProxyType(
            {
                # text-embeddings-inference 1.8, `text-embeddings-router --pooling`
                # (docs/source/en/cli_arguments.md, "Possible values").
                Engine.TEI: ("cls", "mean", "splade", "last-token"),
                # llama.cpp server, `--pooling {none,mean,cls,last,rank}`
                # (tools/server/README.md).
                Engine.LLAMACPP: ("none", "mean", "cls", "last", "rank"),
            }
        ),
        # The service's llama.cpp modes besides text generation (which is no mode), as the
        # schema has listed them from the start.
        "mode": MappingProxyType({Engine.LLAMACPP: ("embeddings", "reranking")}),
        # vLLM 0.11, `--kv-cache-dtype` (`CacheDType` in vllm/config/cache.py; `auto` is the
        # model's dtype, `fp8` is `fp8_e4m3`, `fp8_inc` is Intel Gaudi's).
        "kv_cache_dtype": MappingProxyType(
            {
                Engine.VLLM: (
                    "auto",
                    "bfloat16",
                    "fp8",
                    "fp8_e4m3",
                    "fp8_e5m2",
                    "fp8_inc",
                    "fp8_ds_mla",
                )
            }
        ),
        # text-generation-inference 3.3, `text-generation-launcher --quantize`
        # (docs/source/reference/launcher.md, "Possible values").
        "quantize": MappingProxyType(
            {
                Engine.TGI: (
                    "awq",
                    "compressed-tensors",
                    "eetq",
                    "exl2",
                    "gptq",
                    "marlin",
                    "bitsandbytes",
                    "bitsandbytes-nf4",
                    "bitsandbytes-fp4",
                    "fp8",
                )
            }
        ),
        # TGI on Neuron reads it as optimum-neuron's `auto_cast_type` (docs/source/guides/
        # export_model.mdx, "Exporting LLMs": one of fp32 (float32), fp16 (float16) or bf16
        # (bfloat16)); the long names are accepted as that page gives them.
        "hf_auto_cast_type": MappingProxyType(
            {Engine.TGI_NEURON: ("bf16", "fp16", "fp32", "bfloat16", "float16", "float32")}
        ),
    }
)


def option_values(engine: Engine, option: str) -> tuple[str, ...] | None:
    """The values `option` may take on `engine`; None: any value of its type."""
    return ENGINE_OPTION_VALUES.get(option, {}).get(engine)


# Engines whose container provisioner knows no default for: the spec names it (`image.url`).
NEEDS_IMAGE_URL = frozenset({Engine.CUSTOM, Engine.HF_SERVE, Engine.TGI_NEURON, Engine.VLLM_NEURON})
# Engines without container settings (`image`): Hugging Face's managed images, and `keep`.
NO_IMAGE = frozenset({Engine.DEFAULT, Engine.HUGGINGFACE_NEURON, Engine.KEEP})


# Env vars the service injects into every endpoint by itself. Declaring one would fight the
# service forever, so validate refuses it; the live read ignores them.
SERVICE_ENV = frozenset({"HF_TOKEN"})


# Every value class is keyword-only, and a field has a Python default only when that default
# means "not declared" (None, no engine options, not adopting): the spec's real defaults live in
# the JSON Schema and are filled in before a spec is built (see `spec.defaults`), and `emit`
# leaves out exactly the fields still at their Python default.


@dataclass(frozen=True, kw_only=True)
class SecretRef:
    """A secret's value is read from this environment variable at apply time, never stored."""

    from_env: str


@dataclass(frozen=True, kw_only=True)
class Image:
    url: str | None = None
    port: int | None = None
    health_route: str | None = None


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    repository: str
    revision: str | None = None
    task: str | None = None
    framework: str
    engine: Engine
    image: Image | None = None
    engine_options: Mapping[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] | None = None
    secrets: Mapping[str, SecretRef] | None = None
    command: tuple[str, ...] | None = None
    args: tuple[str, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class ComputeSpec:
    vendor: str
    region: str
    accelerator: str
    instance_type: str
    instance_size: str


@dataclass(frozen=True, kw_only=True)
class ScalingSpec:
    min_replicas: int
    max_replicas: int
    scale_to_zero_timeout: int | None = None
    metric: ScalingMetric | None = None
    threshold: float | None = None


@dataclass(frozen=True, kw_only=True)
class PrivateLink:
    account_id: str
    region: str


@dataclass(frozen=True, kw_only=True)
class Route:
    domain: str | None = None
    path: str | None = None


@dataclass(frozen=True, kw_only=True)
class Outputs:
    """What `provisioner output` calls the endpoint's values for an application: `url_env` is
    the variable its URL goes in (None: `NAME_URL`, `spec.outputs.url_variable`)."""

    url_env: str | None = None


@dataclass(frozen=True)
class Source:
    """Where a spec came from, so later stages can point diagnostics at the user's own lines."""

    file: Path
    document: int
    # The loaded document's own marks (shared, not copied: a large stack keeps one per spec).
    marks: Mapping[KeyPath, Mark | Located]

    def mark(self, *path: str | int) -> Mark:
        for end in range(len(path), -1, -1):
            found = self.marks.get(path[:end])
            if found is not None:
                return found.value if isinstance(found, Located) else found
        return Mark(self.file)


@dataclass(frozen=True, kw_only=True)
class EndpointSpec:
    """One endpoint as declared, in the order `show` prints it."""

    name: str
    namespace: str | None = None
    model: ModelSpec
    compute: ComputeSpec
    scaling: ScalingSpec
    type: EndpointType
    private_link: PrivateLink | None = None
    route: Route | None = None
    cache_http_responses: bool | None = None
    state: DesiredState
    # When it runs (`spec.schedule`); `state: paused` wins over it.
    schedule: Schedule | None = None
    tags: tuple[str, ...] | None = None
    protect: bool
    # Written only when true (`import` writes it); the schema's default is false.
    adopt: bool = False
    # Checked after apply and by `provisioner smoke`; not part of the endpoint (nor its digest).
    smoke: SmokeSpec | None = None
    # What `provisioner output` names the URL; not part of the endpoint (nor its digest).
    outputs: Outputs | None = None
    # Fields (spec paths of the field table) whose live value is left alone on an existing
    # endpoint: a difference there is shown as ignored, never planned. Not part of its digest.
    ignore_changes: tuple[str, ...] = ()
    source: Source = field(compare=False, repr=False)
