"""The emulated Hub model info, through huggingface_hub's own `model_info` and its error types."""

from __future__ import annotations

import hashlib
import json
import urllib.request

import pytest
from huggingface_hub import HfApi
from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError, RevisionNotFoundError

from provisioner.emulator import Emulator
from tests.support.raw_http import call


def _create(api: HfApi, name: str, *, repository: str = "gpt2", **extra: object) -> str:
    endpoint = api.create_inference_endpoint(
        name,
        repository=repository,
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


def test_any_repository_the_catalog_does_not_list_is_a_public_model(
    hf_api: HfApi, emulator: Emulator
) -> None:
    """A user's own model needs no declaring: its `main` is the commit an endpoint created
    without a revision gets, the same on every call and in every emulator."""
    for repository in ("openai-community/gpt2", "BAAI/bge-base-en-v1.5", "someone/Their_Model.v2"):
        info = hf_api.model_info(repository)
        assert (info.id, info.private, info.gated) == (repository, False, False)
        assert info.sha == hashlib.sha1(f"{repository}@main".encode()).hexdigest()
        assert hf_api.model_info(repository, revision="main").sha == info.sha
    sha = hf_api.model_info("openai-community/gpt2").sha
    assert _create(hf_api, "own", repository="openai-community/gpt2") == sha
    assert hf_api.model_info("openai-community/gpt2", revision="v1.0").sha == sha
    with pytest.raises(RevisionNotFoundError):
        hf_api.model_info("openai-community/gpt2", revision="no-such-branch")
    # An id the Hub would refuse (huggingface_hub checks it before sending) is not a model.
    for malformed in ("a--b", "-x/y", "a/b/c", "x.git"):
        reply = call("GET", f"{emulator.url}/api/models/{malformed}")
        assert (reply.status, reply.headers.get("x-error-code")) == (404, "RepoNotFound")


def test_unreadable_repositories_and_revisions_answer_as_the_hub(
    hf_api: HfApi, emulator: Emulator
) -> None:
    with pytest.raises(RepositoryNotFoundError) as absent:
        hf_api.model_info("acme/absent-model")
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


def test_admin_route_makes_a_repository_private_gated_absent_or_public_again(
    hf_api: HfApi, emulator: Emulator
) -> None:
    def visibility(repository: str, value: str) -> dict[str, object]:
        reply = call(
            "POST",
            f"{emulator.url}/admin/models",
            {"repository": repository, "visibility": value},
        )
        assert reply.status == 200, reply.text
        return dict(reply.json())

    main = hf_api.model_info("me/mine").sha
    assert visibility("me/mine", "private") == {"repository": "me/mine", "visibility": "private"}
    with pytest.raises(RepositoryNotFoundError):
        hf_api.model_info("me/mine")
    visibility("me/mine", "gated")
    with pytest.raises(GatedRepoError):
        hf_api.model_info("me/mine")
    visibility("me/mine", "public")
    assert hf_api.model_info("me/mine").sha == main  # its branches were kept
    visibility("me/mine", "absent")
    with pytest.raises(RepositoryNotFoundError):
        hf_api.model_info("me/mine")
    emulator.set_visibility("acme/private-model", "public")
    assert hf_api.model_info("acme/private-model").sha is not None
    emulator.reset()  # back to the catalog as it started
    assert hf_api.model_info("me/mine").sha == main
    with pytest.raises(RepositoryNotFoundError):
        hf_api.model_info("acme/private-model")
    for bad in (
        {"repository": "me/mine", "visibility": "secret"},
        {"repository": "me/mine", "visibility": "absent", "branch": "main"},
        {"repository": "a--b"},
        {"repository": "me/mine", "colour": "red"},
    ):
        reply = call("POST", f"{emulator.url}/admin/models", bad)
        assert reply.status == 400, bad
