"""Ownership tags: written only in the conservative form, read in both forms."""

from __future__ import annotations

from pathlib import Path

from provisioner.plan import ownership
from provisioner.spec.checks import is_conservative_tag
from provisioner.spec.diagnostics import Severity
from provisioner.spec.stack import STACK_NAME_MAX, load_stack
from tests.reconcile.helpers import write_spec

LONGEST_STACK = "s" * STACK_NAME_MAX


def test_written_tags_are_conservative_short_and_few() -> None:
    tags = ownership.tags_for(
        (), stack=LONGEST_STACK, protected=True, applied=ownership.digest({"a": 1})
    )
    assert len(tags) == 3
    assert all(is_conservative_tag(tag) for tag in tags), tags
    assert max(len(tag) for tag in tags) <= 64
    assert set(tags) == {
        f"provisioner-stack-{LONGEST_STACK}",
        "provisioner-protected",
        f"provisioner-applied-{ownership.digest({'a': 1})}",
    }


def test_both_forms_are_read() -> None:
    new = ("provisioner-applied-0123456789abcdef", "provisioner-protected", "provisioner-stack-s")
    old = ("provisioner.applied=0123456789abcdef", "provisioner.protected", "provisioner.stack=s")
    for tags in (new, old):
        assert ownership.owner(tags) == "s"
        assert ownership.is_protected(tags)
        assert ownership.applied_digest(tags) == "0123456789abcdef"
        assert ownership.user_tags((*tags, "team-x")) == ("team-x",)
    assert ownership.needs_rewrite(old) and not ownership.needs_rewrite(new)
    assert ownership.needs_rewrite(("team-x", "provisioner.stack=s"))
    assert ownership.owner(("team-x",)) is None
    assert not ownership.is_protected(("team-x",))


def test_user_tag_outside_the_conservative_form_is_a_warning(tmp_path: Path) -> None:
    specs = tmp_path / "endpoints"
    write_spec(specs, "svc", tags=["team-x", "Team_X", "env:prod"], namespace="acme")
    _, diagnostics = load_stack(specs)
    found = [(d.severity, d.message) for d in diagnostics.sorted()]
    warned = [m for s, m in found if s is Severity.WARNING and "conservative form" in m]
    assert len(warned) == 2
    assert "'Team_X'" in warned[0] + warned[1] and "'env:prod'" in warned[0] + warned[1]
    assert not diagnostics.has_errors


def test_a_stack_name_from_a_long_directory_is_refused(tmp_path: Path) -> None:
    """The stack's name is part of its ownership tag, which must stay short."""
    specs = tmp_path / ("d" * (STACK_NAME_MAX + 1))
    write_spec(specs, "svc", namespace="acme")
    _, diagnostics = load_stack(specs)
    assert diagnostics.has_errors
    assert f"at most {STACK_NAME_MAX} characters" in diagnostics.sorted()[0].message
    fine = tmp_path / ("d" * STACK_NAME_MAX)
    write_spec(fine, "svc", namespace="acme")
    assert not load_stack(fine)[1].has_errors


def test_a_bare_stack_prefix_owns_nothing() -> None:
    """A tag that names no stack (`provisioner-stack-`) must not make an endpoint anyone's: a
    stack named '' does not exist, and the empty one must never match."""
    assert ownership.owner(["provisioner-stack-"]) is None
    assert ownership.owner(["provisioner.stack="]) is None
    assert ownership.applied_digest(["provisioner-applied-"]) is None
