"""The review warnings of a change (`plan/review.py`): what a reviewer must not miss."""

from __future__ import annotations

from dataclasses import replace

from provisioner.plan.cost import Cost, Footprint
from provisioner.plan.model import DEFAULT_BRANCH, Action, FieldChange, ResourceChange, Seen
from provisioner.plan.review import WarningCode, actions, review_warnings
from tests.render.test_markdown import CPU

COMMIT = "c" * 40
T4 = Footprint("aws", "us-east-1", "gpu", "nvidia-t4", "x4", 1, 2, accelerators=4)


def _codes(change: ResourceChange) -> list[str]:
    return [w.code.value for w in review_warnings(change)]


def _change(action: Action, **kw: object) -> ResourceChange:
    return ResourceChange("acme", "x", action, (), Seen(exists=True), **kw)  # type: ignore[arg-type]


def test_only_a_change_that_deploys_the_model_warns_about_an_unpinned_revision() -> None:
    tags = _change(
        Action.UPDATE, desired=CPU, revision_from="main", fields=(FieldChange("tags", [], ["a"]),)
    )
    assert _codes(tags) == []
    moved = replace(tags, fields=(FieldChange("model.revision", "a" * 40, "b" * 40),))
    assert _codes(moved) == ["unpinned-revision"]
    assert review_warnings(moved)[0].revision == "main"
    assert _codes(replace(moved, revision_from=COMMIT)) == []
    create = _change(Action.CREATE, desired=CPU, revision_from=DEFAULT_BRANCH)
    assert review_warnings(create)[0].revision == DEFAULT_BRANCH
    # planned without resolving revisions: what is declared is what is sent
    assert _codes(replace(create, revision_from=None, desired=replace(CPU, revision=COMMIT))) == []


def test_public_only_when_it_becomes_public() -> None:
    public = replace(CPU, type="public", revision=COMMIT)
    kept = _change(
        Action.UPDATE,
        desired=public,
        revision_from=COMMIT,
        fields=(FieldChange("scaling.max_replicas", 1, 2),),
    )
    assert _codes(kept) == []
    opened = replace(kept, fields=(FieldChange("type", "private", "public"),))
    assert _codes(opened) == ["public-access"]


def test_gpus_added_counts_accelerators_times_max_replicas() -> None:
    grow = _change(Action.UPDATE, cost=Cost(replace(T4, max_replicas=1), T4))
    (warning,) = review_warnings(grow)
    assert (warning.code, warning.gpus_before, warning.gpus_after) == (WarningCode.GPU_ADDED, 4, 8)
    assert _codes(_change(Action.PAUSE, cost=Cost(T4, replace(T4, stopped=True)))) == []
    assert _codes(_change(Action.RESUME, cost=Cost(replace(T4, stopped=True), T4))) == ["gpu-added"]


def test_replace_and_delete() -> None:
    replaced = _change(
        Action.REPLACE, steps=(Action.DELETE, Action.CREATE), desired=CPU, revision_from=COMMIT
    )
    assert _codes(replaced) == ["url-changes"]
    assert actions(replaced) == ("delete", "create")
    assert _codes(_change(Action.DELETE, steps=(Action.DELETE,))) == ["deletion"]
    assert actions(_change(Action.NOOP)) == ("no-op",)
