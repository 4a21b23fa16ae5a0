"""What provisioner assumes about the Inference Endpoints API, as tests that run against the
emulator (`make test`) and the real service (`make acceptance`, opt-in).

One test per assumption (`assumptions.ASSUMPTIONS` says which row of the reference's section 10
or of the emulator README each one checks). A test of behaviour provisioner relies on fails when
it does not hold; a test that records an observation passes either way and reports what it saw
(`observe`). Every endpoint is created by `Target.create` (scale to zero, the suite's tag) on the
cheapest CPU hardware with quota to spare, paused at once unless the test needs it running, and
deleted when the test ends (`Target.endpoint`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from huggingface_hub.errors import HfHubHTTPError

from provisioner.plan import ownership
from provisioner.plan.desired import ENGINES
from provisioner.spec.model import Engine
from provisioner.spec.stack import STACK_NAME_MAX
from tests.acceptance.target import Target, status

Observe = Callable[[str], None]
SHA = re.compile(r"^[0-9a-f]{40}$")
TGI = "ghcr.io/huggingface/text-generation-inference:3.3.6"


def scaling(raw: dict) -> tuple[int, int]:
    s = raw["compute"]["scaling"]
    return s["minReplica"], s["maxReplica"]


def state(raw: dict) -> str:
    return str(raw["status"]["state"])


def test_pause_semantics(target: Target, observe: Observe) -> None:
    with target.endpoint("pause", paused=False) as name:
        paused = target.pause(name)
        assert state(paused) == "paused"
        after = target.get(name)
        observe("after pause min/max {}/{}".format(*scaling(after)))
        kept = after["compute"]["scaling"].get("scaleToZeroTimeout")
        observe(f"scaleToZeroTimeout after pause {kept} (was 15)")
        resumed = target.api.resume_inference_endpoint(name, namespace=target.namespace)
        assert state(resumed.raw) != "paused"
        observe("after resume min/max {}/{}".format(*scaling(target.get(name))))
        target.pause(name)


def test_update_right_after_resume_taken_or_refused(target: Target, observe: Observe) -> None:
    with target.endpoint("resume-put") as name:
        target.api.resume_inference_endpoint(name, namespace=target.namespace)
        try:
            # Scale-to-zero bounds: nothing billed while idle whatever the answer.
            target.update(name, min_replica=0, max_replica=1, scale_to_zero_timeout=15)
        except HfHubHTTPError as error:
            assert status(error) == 409, error
            observe(f"refused while starting: 409 {str(error)[:120]}")
        else:
            observe(f"taken while {state(target.get(name))}")
        target.pause(name)


def test_put_on_paused_keeps_it_paused(target: Target) -> None:
    with target.endpoint("paused-put", env={"A": "1"}) as name:
        target.update(name, env={"A": "2"})
        after = target.get(name)
        assert state(after) == "paused"
        assert after["model"]["env"].get("A") == "2"


def test_sparse_put_keeps_absent_fields(target: Target) -> None:
    with target.endpoint("sparse", env={"A": "1"}, tags=["team-x"]) as name:
        before = target.get(name)
        # Only compute.scaling.scaleToZeroTimeout is sent: everything else must stay.
        target.update(name, scale_to_zero_timeout=30)
        after = target.get(name)
        assert after["compute"]["scaling"]["scaleToZeroTimeout"] == 30
        assert scaling(after) == scaling(before)
        assert after["compute"]["instanceSize"] == before["compute"]["instanceSize"]
        assert after["model"]["repository"] == before["model"]["repository"]
        assert after["model"]["image"] == before["model"]["image"]
        assert after["model"]["env"].get("A") == "1"
        assert after["tags"] == before["tags"]


def test_image_and_env_are_replaced_whole(target: Target) -> None:
    image = {"url": TGI, "port": 80, "healthRoute": "/health"}
    with target.endpoint(
        "replace",
        custom_image={"tgi": {**image, "maxInputLength": 512}},
        env={"A": "1", "B": "2"},
        refused_means_skip=True,
    ) as name:
        target.update(name, custom_image={"tgi": image}, env={"A": "1"})
        after = target.get(name)["model"]
        assert "maxInputLength" not in after["image"]["tgi"], after["image"]
        env = {k: v for k, v in after["env"].items() if k != "HF_TOKEN"}
        assert env == {"A": "1"}


def test_secrets_echoed_or_not(target: Target, observe: Observe) -> None:
    value = "prov-acc-not-a-real-secret"
    with target.endpoint("secrets", secrets={"API_KEY": value}) as name:
        returned = target.get(name)["model"].get("secrets")
        if returned is None:
            observe("secrets: not returned")
        elif returned.get("API_KEY") == value:
            observe("secrets: values echoed")
        elif "API_KEY" in returned:
            observe(f"secrets: keys with placeholder {returned['API_KEY']!r}")
        else:
            observe(f"secrets: returned without the key ({sorted(returned)})")


def _ownership_tags(target: Target) -> list[str]:
    digest = ownership.digest({"acceptance": target.prefix})
    stack = "acceptance-" + target.prefix.removeprefix("prov-acc-")
    return list(ownership.tags_for(["team-x"], stack=stack, protected=True, applied=digest))


def test_conservative_tags_are_accepted(target: Target) -> None:
    tags = _ownership_tags(target)
    with target.endpoint("tags", tags=tags) as name:
        assert sorted(target.get(name)["tags"]) == sorted(target.tagged(tags))
        changed = [*tags[:-1], "team-y"]
        target.update(name, tags=changed)
        assert sorted(target.get(name)["tags"]) == sorted(target.tagged(changed))


def longest_ownership_tag(prefix: str) -> str:
    """The longest tag provisioner writes: the stack marker of a stack name as long as validate
    allows (`provisioner-stack-` + 40 = 58 characters), unique to the run."""
    stack = (prefix + "-" + "s" * STACK_NAME_MAX)[:STACK_NAME_MAX]
    tags = ownership.tags_for([], stack=stack, protected=True, applied=ownership.digest(prefix))
    return max(tags, key=len)


def test_the_longest_ownership_tag_is_accepted(target: Target) -> None:
    tag = longest_ownership_tag(target.prefix)
    assert len(tag) == len(ownership.STACK) + STACK_NAME_MAX == 58
    with target.endpoint("long-tag", tags=[tag]) as name:
        assert tag in target.answers[name]["tags"]
        assert tag in target.get(name)["tags"]


def test_tags_only_put_keeps_the_state(target: Target, observe: Observe) -> None:
    with target.endpoint("tags-put", paused=False) as name:
        before = state(target.get(name))
        after = state(target.update(name, tags=_ownership_tags(target)))
        if after == before:
            observe(f"tags-only PUT: state kept ({after})")
        else:
            observe(f"tags-only PUT: {before} -> {after}")
        target.pause(name)


def test_revision_echo(target: Target, observe: Observe) -> None:
    with target.endpoint("revision", revision="main") as name:
        revision = target.get(name)["model"]["revision"]
        if revision == "main":
            observe("revision: the branch is echoed (`main`)")
        elif isinstance(revision, str) and SHA.match(revision):
            observe("revision: resolved to a commit sha")
        else:
            observe(f"revision: {revision!r}")


def test_list_pagination_cursor(target: Target, observe: Observe) -> None:
    with target.endpoint("list-a") as first, target.endpoint("list-b") as second:
        listed = {e.name for e in target.api.list_inference_endpoints(namespace=target.namespace)}
        response = target.raw("GET", f"/endpoint/{target.namespace}", limit=1)
        assert response.status_code == 200, response.text
        page = response.json()
        cursor = page.get("nextCursor")
        keys = sorted(k for k in page if k != "items")
        observe(
            f"limit=1 gave {len(page['items'])} item(s); cursor: "
            f"{'yes' if cursor else 'none'}; other keys: {', '.join(keys) or 'none'}"
        )
        names = {item["name"] for item in page["items"]}
        pages = 1
        while cursor and pages < 50:
            response = target.raw("GET", f"/endpoint/{target.namespace}", limit=1, cursor=cursor)
            page = response.json()
            names |= {item["name"] for item in page["items"]}
            cursor, pages = page.get("nextCursor"), pages + 1
        if pages > 1:
            observe(f"following the cursor: {pages} pages")
            assert {first, second} <= names
        # huggingface_hub reads only `items`: without a cursor, the first page is everything.
        if {first, second} <= listed:
            observe("huggingface_hub's list saw both endpoints")
        else:
            observe("huggingface_hub's list MISSED endpoints (paginated by default?)")


def test_hf_token_injected_or_not(target: Target, observe: Observe) -> None:
    with target.endpoint("hf-token", env={"A": "1"}) as name:
        env = target.get(name)["model"].get("env") or {}
        assert env.get("A") == "1"
        observe("HF_TOKEN: injected into env" if "HF_TOKEN" in env else "HF_TOKEN: not in env")


def test_hardware_list_carries_quota(target: Target) -> None:
    response = target.raw("GET", f"/provider/{target.namespace}")
    assert response.status_code == 200, response.text
    rows = [
        compute
        for vendor in response.json()["vendors"]
        for region in vendor["regions"]
        for compute in region["computes"]
    ]
    assert rows
    for row in rows:
        quota = row.get("quota") or {}
        assert isinstance(quota.get("maxAccelerators"), int), row
        assert isinstance(quota.get("usedAccelerators"), int), row
    # And huggingface_hub parses them (it requires both).
    assert target.api.list_inference_endpoints_hardware(namespace=target.namespace)


def test_resume_on_running_answers_already_running(target: Target, observe: Observe) -> None:
    # Scale to zero (min 0, 15 minutes), not min 1: a run killed here leaves an endpoint that
    # stops being billed on its own. It starts running all the same; should the service scale
    # it to zero first, a request to its URL wakes it.
    with target.endpoint("running", paused=False) as name:

        def is_running() -> bool:
            raw = target.get(name)
            if state(raw) == "scaledToZero" and raw["status"].get("url"):
                route = str(raw.get("healthRoute") or "/health").lstrip("/")
                target.health(f"{raw['status']['url'].rstrip('/')}/{route}")
            return state(raw) == "running"

        running = target.wait("running", is_running, timeout=15 * 60, every=10)
        if not running:
            pytest.skip("the endpoint did not reach running within the budget")
        with pytest.raises(HfHubHTTPError) as raised:
            target.api.resume_inference_endpoint(name, namespace=target.namespace, running_ok=False)
        assert status(raised.value) == 400
        assert "already running" in str(raised.value)
        endpoint = target.api.get_inference_endpoint(name, namespace=target.namespace)
        raw = endpoint.raw
        url = f"{raw['status']['url'].rstrip('/')}/{raw['healthRoute'].lstrip('/')}"
        health = target.wait(
            "health",
            lambda: target.health(url) == 200,
            timeout=5 * 60,
            every=10,
        )
        observe(f"health route {'200' if health else 'not 200'} once running")
        assert health
        target.pause(name)


def test_name_reserved_after_delete(target: Target, observe: Observe) -> None:
    with target.endpoint("reuse") as name:
        target.delete(name)
        try:
            target.create("reuse")
            observe("the name was free again at once")
            target.pause(name)
        except HfHubHTTPError as error:
            observe(f"creating it again at once: {status(error)}")

        def gone() -> bool:
            try:
                target.get(name)
            except HfHubHTTPError as error:
                return status(error) == 404
            target.delete(name)
            return False

        assert target.wait("gone", gone, timeout=120)


def test_duplicate_name_is_a_conflict(target: Target) -> None:
    with target.endpoint("dup"):
        with pytest.raises(HfHubHTTPError) as raised:
            target.create("dup")
        assert status(raised.value) == 409


def test_hardware_updates_in_place(target: Target) -> None:
    bigger = target.hardware.bigger_size
    if bigger is None:
        pytest.skip(f"no bigger {target.hardware.instance_type} size with quota to spare")
    with target.endpoint("hardware") as name:
        target.update(
            name,
            accelerator=target.hardware.accelerator,
            instance_type=target.hardware.instance_type,
            instance_size=bigger,
        )
        after = target.get(name)
        assert after["compute"]["instanceSize"] == bigger
        assert state(after) == "paused"


def test_endpoint_carries_the_keys_the_client_needs(target: Target, observe: Observe) -> None:
    with target.endpoint("keys") as name:
        raw = target.get(name)
        assert isinstance(raw.get("healthRoute"), str)
        assert "revision" in raw["model"] and "task" in raw["model"]
        assert raw["status"]["createdAt"] and raw["status"]["updatedAt"]
        assert isinstance(raw.get("tags", []), list)
        measure = raw["compute"]["scaling"].get("measure")
        metric = raw["compute"]["scaling"].get("metric")
        observe(f"default scaling: metric {metric!r}, measure {measure!r}")


def test_bad_token_is_unauthorized(target: Target) -> None:
    response = target.raw("GET", f"/endpoint/{target.namespace}", token="hf_" + "x" * 34)
    assert response.status_code == 401, (response.status_code, response.text[:200])


def test_logs_are_text_lines(target: Target, observe: Observe) -> None:
    with target.endpoint("logs") as name:
        path = f"/endpoint/{target.namespace}/{name}/logs"
        response = target.raw("GET", path, tail=5)
        assert response.status_code == 200, (response.status_code, response.text[:200])
        kind = response.headers.get("content-type", "")
        lines = response.text.splitlines()
        observe(f"content type {kind or 'none'}; tail=5 gave {len(lines)} line(s)")
        assert len(lines) <= 5
        if lines:
            observe(f"first line starts {lines[0][:40]!r}")
        missing = target.raw("GET", f"/endpoint/{target.namespace}/{name}-nope/logs")
        assert missing.status_code == 404, (missing.status_code, missing.text[:200])


def test_a_32_character_name_is_accepted(target: Target) -> None:
    suffix = "n" * (32 - len(target.prefix) - 1)
    with target.endpoint(suffix) as name:
        assert len(name) == 32
        assert target.get(name)["name"] == name


def test_registry_credentials_come_back_as_a_marker(target: Target, observe: Observe) -> None:
    image = {"url": "registry.example.com/prov-acc/server:1", "port": 80, "healthRoute": "/health"}
    with target.endpoint(
        "creds",
        custom_image=image,
        container_registry_username="prov-acc",
        container_registry_password="prov-acc-not-a-real-password",
        refused_means_skip=True,
    ) as name:
        custom = target.get(name)["model"]["image"].get("custom") or {}
        # provisioner never sends such an image back (it would wipe the credentials), so it must
        # see that there are some.
        assert custom.get("credentials") is not None, custom
        echoed = custom["credentials"].get("password") == "prov-acc-not-a-real-password"
        observe("credentials: password echoed" if echoed else "credentials: redacted")


VLLM_OPTIONS = {"maxModelLen": 1024, "gpuMemoryUtilization": 0.5, "enforceEager": True}


def kept_options(image: dict, sent: dict) -> tuple[list[str], list[str], list[str]]:
    """Of the engine options sent: those the answer keeps as sent, keeps with another value,
    and drops."""
    body = image.get("vLLM") if isinstance(image.get("vLLM"), dict) else {}
    kept = [k for k, v in sent.items() if k in body and body[k] == v]
    changed = [f"{k}={body[k]!r}" for k, v in sent.items() if k in body and body[k] != v]
    dropped = [k for k in sent if k not in body]
    return kept, changed, dropped


def test_engine_options_kept_or_dropped(target: Target, observe: Observe) -> None:
    engine = ENGINES[Engine.VLLM]
    image = {"url": engine.url, "port": engine.port, "healthRoute": engine.health_route}
    # No refused_means_skip: an error answer to engine options provisioner sends is a failure.
    with target.endpoint("vllm", custom_image={"vLLM": {**image, **VLLM_OPTIONS}}) as name:
        for source, raw in (("create", target.answers[name]), ("get", target.get(name))):
            kept, changed, dropped = kept_options(raw["model"]["image"], VLLM_OPTIONS)
            observe(
                f"{source}: vLLM kept {', '.join(kept) or 'none'}; dropped "
                f"{', '.join(dropped) or 'none'}"
                + (f"; changed {', '.join(changed)}" if changed else "")
            )
