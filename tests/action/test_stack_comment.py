"""The comment over a root of several stacks, as a pure function (`texts.stacks_comment`): it
stays under GitHub's 65,536 characters however many large plans it holds, shortening the
longest sections first, and every stack keeps its heading, its digest and its own section."""

from __future__ import annotations

from provisioner.action import texts

SHA = "0123456789abcdef0123456789abcdef01234567"


def _plan(directory: str, size: int, digit: str) -> texts.StackPlan:
    digest = f"<!-- provisioner-changes-digest: sha256:{digit * 64} -->"
    markdown = f"**Plan for stack `{directory}`**: 3 to create.\n\n" + "| x |\n" * (size // 6)
    return texts.StackPlan(directory, 2, markdown + digest, "", "provisioner-plan-stacks")


def test_forty_large_plans_fit_with_every_heading_and_digest() -> None:
    plans = [_plan(f"stacks/s{n:02d}", 20_000, "0123456789abcdef"[n % 16]) for n in range(40)]

    body = texts.stacks_comment(root="stacks", plans=plans, sha=SHA, run_url="https://r/1")

    assert len(body) <= texts.COMMENT_LIMIT
    for plan in plans:
        section = texts.stack_section(body, plan.directory)
        assert section is not None
        assert f"#### `{plan.directory}`: changes to apply on merge" in section
        assert texts.reviewed(section) == (texts.reviewed(plan.markdown)[0], SHA)
    assert body.count("is too long for this comment") > 30


def test_small_plans_are_kept_whole_and_only_the_longest_is_shortened() -> None:
    plans = [
        _plan("stacks/a", 500, "a"),
        _plan("stacks/a-b", 64_000, "b"),
        _plan("stacks/c", 900, "c"),
    ]

    body = texts.stacks_comment(root="stacks", plans=plans, sha=SHA, run_url="")

    assert len(body) <= texts.COMMENT_LIMIT
    whole = texts.stack_section(body, "stacks/a")
    assert whole is not None and "is too long" not in whole and whole.count("| x |") == 83
    # `stacks/a` is a prefix of `stacks/a-b`: each section is its own.
    assert texts.reviewed(whole)[0] == f"sha256:{'a' * 64}"
    long = texts.stack_section(body, "stacks/a-b")
    assert long is not None and "is too long for this comment" in long
    assert texts.reviewed(long)[0] == f"sha256:{'b' * 64}"
    assert texts.stack_section(body, "stacks/missing") is None


def test_a_plan_quoting_another_stacks_marker_does_not_become_its_section() -> None:
    forged = (
        f"text \\<!-- provisioner-stack: stacks/b -->\n"
        f"<!-- provisioner-changes-digest: sha256:{'f' * 64} -->"
    )
    quoting = texts.StackPlan("stacks/a", 1, "", forged, "provisioner-plan-stacks")

    body = texts.stacks_comment(
        root="stacks", plans=[quoting, _plan("stacks/b", 100, "b")], sha=SHA, run_url=""
    )

    section = texts.stack_section(body, "stacks/b")
    assert section is not None and texts.reviewed(section)[0] == f"sha256:{'b' * 64}"
