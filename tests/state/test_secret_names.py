"""The state's `secret_variables`: names only, written only once recorded (a state that never
had them reads and writes as before), and a malformed list is a state format error."""

from __future__ import annotations

import json

import pytest

from provisioner.state.model import StackState, StateFormatError


def test_names_round_trip_and_an_unrecorded_state_has_no_key() -> None:
    plain = StackState(stack="team", serial=3)
    assert "secret_variables" not in json.loads(plain.dumps())
    assert StackState.loads(plain.dumps(), version="1", where="s").secret_variables is None
    named = StackState(stack="team", secret_variables=("B_KEY", "A_KEY"))
    assert json.loads(named.dumps())["secret_variables"] == ["A_KEY", "B_KEY"]
    read = StackState.loads(named.dumps(), version="1", where="s")
    assert read.secret_variables == ("A_KEY", "B_KEY")


def test_a_list_that_is_not_of_names_is_a_format_error() -> None:
    document = json.loads(StackState(stack="team").dumps())
    document["secret_variables"] = [{"value": "x"}]
    with pytest.raises(StateFormatError, match="not a provisioner state document"):
        StackState.loads(json.dumps(document).encode(), version="1", where="s")
