"""What a deployed endpoint's URL answers: health, and deterministic task-shaped outputs."""

from __future__ import annotations

from typing import Any

import pytest
from huggingface_hub import HfApi

from provisioner.emulator import Emulator
from tests.support.hub import TO_RUNNING, UPDATING, create
from tests.support.raw_http import call


def running(hf_api: HfApi, emulator: Emulator, name: str = "ep", **kw: Any) -> str:
    create(hf_api, name, **kw)
    emulator.advance(TO_RUNNING)
    url = hf_api.get_inference_endpoint(name, namespace="demo").url
    assert url is not None
    return url


def test_health_is_200_only_while_running(hf_api: HfApi, emulator: Emulator) -> None:
    url = f"{emulator.url}/endpoints/demo/ep"
    create(hf_api)
    assert call("GET", f"{url}/health").status == 503  # pending
    emulator.advance(TO_RUNNING)
    assert call("GET", f"{url}/health").status == 200
    hf_api.update_inference_endpoint("ep", namespace="demo", max_replica=2)
    assert call("GET", f"{url}/health").status == 503  # updating
    emulator.advance(UPDATING)
    assert call("GET", f"{url}/health").status == 200
    hf_api.pause_inference_endpoint("ep", namespace="demo")
    reply = call("GET", f"{url}/health")
    assert reply.status == 503 and "paused" in reply.json()["error"]
    assert hf_api.get_inference_endpoint("ep", namespace="demo").status == "paused"  # not woken


def test_health_route_follows_the_image(hf_api: HfApi, emulator: Emulator) -> None:
    url = running(
        hf_api, emulator, custom_image={"url": "ghcr.io/me/app:1", "healthRoute": "/ping"}
    )
    assert call("GET", f"{url}/ping").status == 200
    assert call("GET", f"{url}/health").status == 404


def test_text_generation_is_deterministic(hf_api: HfApi, emulator: Emulator) -> None:
    url = running(hf_api, emulator)
    first = call("POST", url, {"inputs": "Hello", "parameters": {"max_new_tokens": 5}})
    again = call("POST", f"{url}/", {"inputs": "Hello", "parameters": {"max_new_tokens": 5}})
    other = call("POST", url, {"inputs": "Bye", "parameters": {"max_new_tokens": 5}})
    assert first.status == 200
    out = first.json()
    assert isinstance(out, list) and set(out[0]) == {"generated_text"}
    assert len(out[0]["generated_text"].split()) == 5
    assert again.json() == out and other.json() != out
    full = call("POST", url, {"inputs": "Hello", "parameters": {"return_full_text": True}})
    assert full.json()[0]["generated_text"].startswith("Hello ")


@pytest.mark.parametrize(
    ("task", "payload", "check"),
    [
        ("text2text-generation", {"inputs": "x"}, lambda o: set(o[0]) == {"generated_text"}),
        (
            "feature-extraction",
            {"inputs": "x"},
            lambda o: len(o) == 32 and all(isinstance(v, float) for v in o),
        ),
        ("feature-extraction", {"inputs": ["a", "b"]}, lambda o: len(o) == 2 and len(o[0]) == 32),
        (
            "sentence-similarity",
            {"inputs": {"source_sentence": "a", "sentences": ["a", "b"]}},
            lambda o: len(o) == 2 and o[0] == pytest.approx(1.0, abs=1e-4),
        ),
        (
            "text-classification",
            {"inputs": "I love it"},
            lambda o: (
                [x["label"] for x in o[0]] in (["POSITIVE", "NEGATIVE"], ["NEGATIVE", "POSITIVE"])
                and sum(x["score"] for x in o[0]) == pytest.approx(1.0, abs=1e-5)
            ),
        ),
        ("summarization", {"inputs": "long text"}, lambda o: set(o[0]) == {"summary_text"}),
        (
            "token-classification",
            {"inputs": "Alice met Bob"},
            lambda o: [e["word"] for e in o] == ["Alice", "Bob"],
        ),
        (
            "fill-mask",
            {"inputs": "Paris is the [MASK] of France"},
            lambda o: len(o) == 3 and "[MASK]" not in o[0]["sequence"],
        ),
        (
            "question-answering",
            {"inputs": {"question": "Who?", "context": "Alice did"}},
            lambda o: o["answer"] in ("Alice", "did"),
        ),
        (
            "zero-shot-classification",
            {"inputs": "x", "parameters": {"candidate_labels": ["a", "b", "c"]}},
            lambda o: sorted(x["label"] for x in o) == ["a", "b", "c"],
        ),
        ("custom", {"inputs": {"anything": 1}}, lambda o: o["task"] == "custom"),
    ],
)
def test_outputs_are_shaped_for_the_task(
    hf_api: HfApi, emulator: Emulator, task: str, payload: dict[str, Any], check: Any
) -> None:
    url = running(hf_api, emulator, task=task)
    reply = call("POST", url, payload)
    assert reply.status == 200, reply.text
    assert check(reply.json())


def test_tei_image_defaults_to_feature_extraction(hf_api: HfApi, emulator: Emulator) -> None:
    url = running(hf_api, emulator, custom_image={"tei": {"url": "ghcr.io/hf/tei:1"}})
    assert hf_api.get_inference_endpoint("ep", namespace="demo").task == "feature-extraction"
    assert len(call("POST", url, {"inputs": "x"}).json()) == 32


def test_chat_completions_for_text_generation(hf_api: HfApi, emulator: Emulator) -> None:
    url = running(hf_api, emulator)
    reply = call(
        "POST",
        f"{url}/v1/chat/completions",
        {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4},
    )
    assert reply.status == 200
    doc = reply.json()
    assert doc["object"] == "chat.completion" and doc["model"] == "gpt2"
    assert len(doc["choices"][0]["message"]["content"].split()) == 4


def test_missing_inputs_is_a_422(hf_api: HfApi, emulator: Emulator) -> None:
    url = running(hf_api, emulator)
    reply = call("POST", url, {"prompt": "x"})
    assert reply.status == 422
    assert "`inputs` must be provided" in reply.json()["error"]
    assert call("POST", url, raw=b"{oops").status == 400


def test_deleted_or_unknown_endpoint_url_is_404(hf_api: HfApi, emulator: Emulator) -> None:
    url = running(hf_api, emulator)
    hf_api.delete_inference_endpoint("ep", namespace="demo")
    assert call("POST", url, {"inputs": "x"}).status == 404
    assert call("POST", f"{emulator.url}/endpoints/demo/nope", {"inputs": "x"}).status == 404


def test_the_endpoint_client_of_huggingface_hub_works(hf_api: HfApi, emulator: Emulator) -> None:
    gen = create(hf_api, "gen")
    cls = create(hf_api, "cls", task="text-classification")
    emulator.advance(TO_RUNNING)
    gen.fetch()
    cls.fetch()
    text = gen.client.text_generation("hello", max_new_tokens=3)
    assert isinstance(text, str) and len(text.split()) == 3
    labels = cls.client.text_classification("I love it")
    assert {x.label for x in labels} == {"POSITIVE", "NEGATIVE"}
    chat = gen.client.chat_completion([{"role": "user", "content": "hi"}], max_tokens=2)
    assert chat.choices[0].message.content is not None
