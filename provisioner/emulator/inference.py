"""Deterministic model outputs for `POST {status.url}`, shaped for each task.

Owns what a running endpoint answers: the same input always gives the same output (derived from a
SHA-256 of endpoint, task and input), in the shape the task's real server returns, so client code
can be exercised without a model. It must not look at endpoint state or auth (the service decides
whether the request reaches here).

| task | request `inputs` | response |
|---|---|---|
| text-generation, text2text-generation | str | `[{"generated_text": str}]` |
| summarization / translation | str | `[{"summary_text"}]` / `[{"translation_text"}]` |
| feature-extraction, sentence-embeddings | str or [str] | [float] x 32 (unit norm), or a list |
| sentence-similarity | `{"source_sentence", "sentences"}` | [float], one score per sentence |
| text-classification | str or [str] | `[[{"label", "score"}, ...]]`, one inner list per input |
| token-classification | str | `[{"entity_group", "score", "word", "start", "end"}]` (capitals) |
| fill-mask | str with `[MASK]` or `<mask>` | `[{"score", "token", "token_str", "sequence"}]` x 3 |
| question-answering | `{"question", "context"}` | `{"answer", "score", "start", "end"}` |
| zero-shot-classification | str, `parameters.candidate_labels` | `[{"label", "score"}]` sorted |
| anything else (custom, ...) | anything | `{"task", "output"}` with a hex digest of the input |
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any

from provisioner.emulator.wire import ApiError

EMBEDDING_DIM = 32
_WORDS = [
    "the",
    "model",
    "says",
    "hello",
    "from",
    "the",
    "emulator",
    "and",
    "answers",
    "every",
    "prompt",
    "with",
    "a",
    "short",
    "deterministic",
    "sentence",
    "that",
    "changes",
    "with",
    "the",
    "input",
    "but",
    "never",
    "with",
    "time",
]


def _digest(*parts: Any) -> bytes:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).digest()


def _unit(seed: bytes, i: int) -> float:
    return _digest(seed.hex(), i)[0] / 255.0


def _text(seed: bytes, words: int) -> str:
    picks = [_WORDS[_digest(seed.hex(), i)[1] % len(_WORDS)] for i in range(max(words, 1))]
    return " ".join(picks)


def _embedding(seed: bytes, sentence: str) -> list[float]:
    raw = [_unit(_digest(seed.hex(), sentence), i) - 0.5 for i in range(EMBEDDING_DIM)]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return [round(x / norm, 6) for x in raw]


def _validation(message: str) -> ApiError:
    # TGI/TEI style: {"error": "...", "error_type": "validation"} is close enough; the client shows
    # the `error` text.
    return ApiError(422, f"Input validation error: {message}", prefix=False)


def infer(task: str, payload: Any, *, key: str) -> Any:
    """`key` identifies the endpoint (namespace/name@revision): different endpoints differ."""
    if not isinstance(payload, dict) or "inputs" not in payload:
        raise _validation("`inputs` must be provided")
    inputs = payload["inputs"]
    params = payload.get("parameters") or {}
    if not isinstance(params, dict):
        raise _validation("`parameters` must be an object")
    seed = _digest(key, task)
    if task in ("text-generation", "text2text-generation", "summarization", "translation"):
        return _generate(task, inputs, params, seed)
    if task in ("feature-extraction", "sentence-embeddings"):
        if isinstance(inputs, list):
            return [_embedding(seed, str(s)) for s in inputs]
        return _embedding(seed, str(inputs))
    if task == "sentence-similarity":
        return _similarity(seed, inputs)
    if task in ("text-classification", "sentiment-analysis"):
        items = inputs if isinstance(inputs, list) else [inputs]
        return [_classify(seed, str(item), ("POSITIVE", "NEGATIVE")) for item in items]
    if task == "zero-shot-classification":
        labels = params.get("candidate_labels") or []
        if not isinstance(labels, list) or not labels:
            raise _validation("`parameters.candidate_labels` must be a non-empty list")
        return _classify(seed, str(inputs), tuple(str(x) for x in labels))
    if task == "token-classification":
        return _entities(seed, str(inputs))
    if task == "fill-mask":
        return _fill_mask(seed, str(inputs))
    if task == "question-answering":
        return _answer(seed, inputs)
    return {"task": task, "output": _digest(seed.hex(), inputs).hex()[:32]}


def _similarity(seed: bytes, inputs: Any) -> Any:
    """Scores of `sentences` against `source_sentence`; a bare input is embedded instead."""
    if not isinstance(inputs, dict):
        return _embedding(seed, str(inputs))
    source = _embedding(seed, str(inputs.get("source_sentence", "")))
    others = inputs.get("sentences") or []
    return [
        round(
            max(0.0, sum(a * b for a, b in zip(source, _embedding(seed, str(s)), strict=True))),
            6,
        )
        for s in others
    ]


def _entities(seed: bytes, text: str) -> list[dict[str, Any]]:
    """Every capitalised word is a MISC entity."""
    return [
        {
            "entity_group": "MISC",
            "score": round(0.5 + _unit(seed, m.start()) / 2, 6),
            "word": m.group(),
            "start": m.start(),
            "end": m.end(),
        }
        for m in re.finditer(r"\b[A-Z][a-zA-Z]+\b", text)
    ]


def _generate(task: str, inputs: Any, params: dict[str, Any], seed: bytes) -> Any:
    if not isinstance(inputs, str):
        raise _validation("`inputs` must be a string")
    max_new = params.get("max_new_tokens", 8)
    if isinstance(max_new, bool) or not isinstance(max_new, int) or max_new < 1:
        raise _validation("`max_new_tokens` must be a positive integer")
    text = _text(_digest(seed.hex(), inputs), min(max_new, 256))
    if task == "summarization":
        return [{"summary_text": text}]
    if task == "translation":
        return [{"translation_text": text}]
    if params.get("return_full_text") is True:
        text = f"{inputs} {text}"
    return [{"generated_text": text}]


def _classify(seed: bytes, text: str, labels: tuple[str, ...]) -> list[dict[str, Any]]:
    weights = [0.05 + _unit(_digest(seed.hex(), text), i) for i in range(len(labels))]
    total = sum(weights)
    scored = [
        {"label": label, "score": round(w / total, 6)}
        for label, w in zip(labels, weights, strict=True)
    ]
    return sorted(scored, key=lambda item: -float(item["score"]))


def _fill_mask(seed: bytes, text: str) -> list[dict[str, Any]]:
    mask = "[MASK]" if "[MASK]" in text else "<mask>"
    if mask not in text:
        raise _validation("`inputs` must contain a [MASK] or <mask> token")
    out = []
    for rank in range(3):
        word = _WORDS[_digest(seed.hex(), text, rank)[0] % len(_WORDS)]
        out.append(
            {
                "score": round(0.6 / (rank + 1), 6),
                "token": 1000 + rank,
                "token_str": word,
                "sequence": text.replace(mask, word, 1),
            }
        )
    return out


def _answer(seed: bytes, inputs: Any) -> dict[str, Any]:
    if not isinstance(inputs, dict) or not isinstance(inputs.get("context"), str):
        raise _validation("`inputs` must be an object with `question` and `context`")
    context: str = inputs["context"]
    words = list(re.finditer(r"\S+", context))
    if not words:
        return {"answer": "", "score": 0.0, "start": 0, "end": 0}
    pick = words[_digest(seed.hex(), inputs)[0] % len(words)]
    return {"answer": pick.group(), "score": 0.75, "start": pick.start(), "end": pick.end()}


def chat_completion(payload: Any, *, key: str, model: str, created: int) -> dict[str, Any]:
    """OpenAI-compatible `POST {url}/v1/chat/completions`, as TGI/vLLM endpoints serve it."""
    if not isinstance(payload, dict) or not isinstance(payload.get("messages"), list):
        raise _validation("`messages` must be a list")
    seed = _digest(key, "chat", payload["messages"])
    max_tokens = payload.get("max_tokens") or 8
    if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
        raise _validation("`max_tokens` must be a positive integer")
    content = _text(seed, min(max_tokens, 256))
    words = len(content.split())
    return {
        "id": f"chatcmpl-{seed.hex()[:24]}",
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": len(payload["messages"]),
            "completion_tokens": words,
            "total_tokens": len(payload["messages"]) + words,
        },
    }
