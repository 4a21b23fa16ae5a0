"""Diagnostics point at a file position, an endpoint or the run; one error root carries them."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.hub.errors import ConfigurationError, NotFound
from provisioner.render.diagnostics import render_error
from provisioner.spec.diagnostics import (
    Address,
    Diagnostic,
    Mark,
    ProvisionerError,
    Severity,
    clip,
    shown,
)


def test_text_form_per_subject() -> None:
    in_file = Diagnostic(Mark(Path("endpoints/a.yaml"), 3, 7), "compute.region: bad")
    assert str(in_file) == "endpoints/a.yaml:3:7: error: compute.region: bad"
    about_endpoint = Diagnostic(Address("acme", "svc"), "acme/svc was deleted", Severity.WARNING)
    assert str(about_endpoint) == "warning: acme/svc was deleted"
    assert str(Diagnostic(None, "cannot read")) == "error: cannot read"


def test_only_file_diagnostics_have_a_mark() -> None:
    mark = Mark(Path("a.yaml"), 2, 1)
    assert Diagnostic(mark, "x").mark == mark
    with pytest.raises(ValueError, match="not a file diagnostic"):
        _ = Diagnostic(Address("acme", "svc"), "x").mark


def test_mixed_subjects_sort_files_then_endpoints_then_the_run() -> None:
    run = Diagnostic(None, "a")
    endpoint = Diagnostic(Address("acme", "b"), "b")
    early, late = Diagnostic(Mark(Path("a.yaml"), 1), "z"), Diagnostic(Mark(Path("a.yaml"), 9), "a")
    assert sorted([run, late, endpoint, early]) == [early, late, endpoint, run]


def test_api_and_configuration_errors_are_under_the_one_root() -> None:
    error = NotFound("get acme/svc: 404 Not Found", status=404)
    assert isinstance(error, ProvisionerError)
    assert str(error) == "get acme/svc: 404 Not Found"  # quoted as before, e.g. in outcomes
    assert render_error(error) == "error: get acme/svc: 404 Not Found\n"
    assert render_error(ConfigurationError("set HF_TOKEN")) == "error: set HF_TOKEN\n"


def test_rendered_error_lists_diagnostics_in_order_then_the_note() -> None:
    error = ProvisionerError(
        Diagnostic(Address("acme", "b"), "acme/b changed"),
        Diagnostic(Address("acme", "a"), "acme/a changed"),
        note="plan.json is stale; nothing was changed.",
    )
    assert render_error(error) == (
        "error: acme/a changed\nerror: acme/b changed\nplan.json is stale; nothing was changed.\n"
    )


def test_long_values_are_cut_saying_how_much() -> None:
    assert clip("short") == "short"
    assert clip("x" * 1000) == "x" * 300 + "… [700 more characters cut]"
    assert shown("y" * 400) == "'" + "y" * 299 + "… [102 more characters cut]"
    # The net under every diagnostic: an unbroken run, then the whole message.
    message = Diagnostic(None, "tag " + "z" * 5000 + " is odd").message
    assert message == "tag " + "z" * 300 + "… [4,700 more characters cut] is odd"
    spaced = Diagnostic(None, "w " * 10_000).message
    assert len(spaced) < 4_100 and spaced.endswith("more characters cut]")
