"""The smoke test's key paths and the pure check of an answer against an expectation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from provisioner.smoke.check import check
from provisioner.spec.smoke import SmokeExpect, parse_path


@pytest.mark.parametrize(
    ("text", "steps"),
    [
        ("[0].generated_text", (0, "generated_text")),
        ("answer", ("answer",)),
        ("choices[0].message.content", ("choices", 0, "message", "content")),
        ("[-1][2]", (-1, 2)),
        ("usage.total-tokens", ("usage", "total-tokens")),
    ],
)
def test_key_paths_parse(text: str, steps: tuple[Any, ...]) -> None:
    assert parse_path(text) == steps


@pytest.mark.parametrize("text", ["", ".a", "a.", "a..b", "[x]", "[0", "a b", "a[0]b"])
def test_malformed_key_paths_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_path(text)


ANSWER = json.dumps([{"generated_text": "hello there"}])


@pytest.mark.parametrize(
    ("expect", "status", "problems"),
    [
        (SmokeExpect(keys=("[0].generated_text",)), 200, []),
        (SmokeExpect(), 503, ["status 503, expected 200"]),
        (
            SmokeExpect(keys=("[1].generated_text", "[0].score")),
            200,
            [
                "key [1].generated_text is missing: no index 1 at the top level (a list of 1)",
                "key [0].score is missing: no key 'score' at [0] (an object)",
            ],
        ),
        (
            SmokeExpect(schema={"type": "array", "items": {"required": ["generated_text"]}}),
            200,
            [],
        ),
        (
            SmokeExpect(schema={"type": "array", "minItems": 2}),
            200,
            [
                "does not match expect.schema at the top level: "
                "[{'generated_text': 'hello there'}] is too short"
            ],
        ),
    ],
)
def test_an_answer_is_checked_against_the_expectation(
    expect: SmokeExpect, status: int, problems: list[str]
) -> None:
    assert check(expect, status, ANSWER) == problems


def test_an_answer_that_is_not_json_fails_only_when_keys_are_expected() -> None:
    assert check(SmokeExpect(), 200, "<html>ok</html>") == []
    assert check(SmokeExpect(keys=("a",)), 200, "<html>ok</html>") == ["the answer is not JSON"]
