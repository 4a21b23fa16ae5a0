"""The emulated Hub model info, through huggingface_hub's own `model_info` and its error types."""

from __future__ import annotations

import json
import urllib.request

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError

from provisioner.emulator import Emulator


def _create(api: HfApi, name: str, **extra: object) -> str:
    endpoint = api.create_inference_endpoint(
        name,
        repository="gpt2",
        framework="pytorch",
        task="text-generation",
        accelerator="cpu",
        vendor="aws",
        region="us-east-1",
        instance_size="x2",
        instance_type="intel-spr",
        namespace="demo",
        token="hf_demo",
        **extra,
    )
    return str(endpoint.revision)


def test_the_default_branch_is_the_commit_an_endpoint_without_revision_gets(
    hf_api: HfApi,
) -> None:
    info = hf_api.model_info("gpt2")
    assert info.id == "gpt2" and len(info.sha or "") == 40
    assert hf_api.model_info("gpt2", revision="main").sha == info.sha == _create(hf_api, "ep")
    assert hf_api.model_info("Qwen/Qwen2.5-7B-Instruct").id == "Qwen/Qwen2.5-7B-Instruct"


def test_branches_tags_and_commits_resolve(hf_api: HfApi) -> None:
    main = hf_api.model_info("gpt2").sha
    assert hf_api.model_info("gpt2", revision="v1.0").sha == main
    dev = hf_api.model_info("gpt2", revision="dev").sha
    assert dev != main and len(dev or "") == 40
    assert hf_api.model_info("gpt2", revision=main).sha == main


def test_unreadable_repositories_and_revisions_answer_as_the_hub(
    hf_api: HfApi, emulator: Emulator
) -> None:
    with pytest.raises(RepositoryNotFoundError) as absent:
        hf_api.model_info("nobody/nothing")
    assert absent.value.response.status_code == 404
    with pytest.raises(RepositoryNotFoundError):
        hf_api.model_info("acme/private-model")
    with pytest.raises(RepositoryNotFoundError) as anonymous:
        HfApi(endpoint=emulator.url, token=False).model_info("acme/private-model")
    assert anonymous.value.response.status_code == 401
    with pytest.raises(GatedRepoError):
        hf_api.model_info("acme/gated-model")
    with pytest.raises(RevisionNotFoundError):
        hf_api.model_info("gpt2", revision="no-such-branch")


def test_admin_route_moves_a_branch_and_reset_restores_it(
    hf_api: HfApi, emulator: Emulator
) -> None:
    before = hf_api.model_info("gpt2").sha
    request = urllib.request.Request(
        f"{emulator.url}/admin/models",
        method="POST",
        data=json.dumps({"repository": "gpt2"}).encode(),
    )
    with urllib.request.urlopen(request) as response:
        moved = json.load(response)
    assert moved["branch"] == "main" and moved["sha"] != before
    assert hf_api.model_info("gpt2").sha == moved["sha"]
    assert emulator.move_branch("gpt2", "main", "f" * 40) == "f" * 40
    assert hf_api.model_info("gpt2", revision="main").sha == "f" * 40
    emulator.reset()
    assert hf_api.model_info("gpt2").sha == before
