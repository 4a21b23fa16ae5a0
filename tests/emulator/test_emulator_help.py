"""`provisioner emulator --help` and `--readme`: what a user reads before starting the emulator.

The admin routes the help lists are held equal to `admin.ROUTES`, and `ROUTES` to what the
running server answers, so the help cannot go stale in either direction.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from provisioner.cli.emulator_cmd import ADMIN_HELP
from provisioner.emulator import Emulator
from provisioner.emulator.admin import ROUTES
from tests.support.cli import run
from tests.support.raw_http import call

README = Path(__file__).resolve().parents[2] / "provisioner" / "emulator" / "README.md"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _help(capsys: pytest.CaptureFixture[str]) -> str:
    shown = run(capsys, "emulator", "--help")
    assert shown.code == 0, shown.err
    return shown.out


def test_the_help_lists_exactly_the_admin_routes_the_server_answers_from(
    capsys: pytest.CaptureFixture[str],
) -> None:
    listed = {route: tuple(methods.split("|")) for methods, route, _ in ADMIN_HELP}
    assert listed == ROUTES
    shown = _help(capsys)
    rows = re.findall(r"^\s+([A-Z|]+)\s+(/admin/\S+)", shown, re.MULTILINE)
    in_help = {route: tuple(methods.split("|")) for methods, route in rows}
    assert in_help == ROUTES


def test_every_admin_route_is_served_with_its_methods_and_no_other(emulator: Emulator) -> None:
    for route, allowed in ROUTES.items():
        for method in METHODS:
            answer = call(method, f"{emulator.url}{route}")
            if method in allowed:
                # Served: an empty body may be a 400, never "no such route" or "not allowed".
                assert answer.status not in (404, 405), (method, route, answer.text)
            else:
                assert answer.status == 405, (method, route, answer.status)
                assert answer.headers.get("allow") == ", ".join(allowed), (method, route)
    assert call("GET", f"{emulator.url}/admin/nothing-here").status == 404


def test_the_help_says_how_to_point_provisioner_at_it_and_where_the_reference_is(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = " ".join(_help(capsys).split())
    assert "PROVISIONER_API_URL=http://127.0.0.1:8790 HF_TOKEN=hf_demo provisioner plan" in text
    assert "--config FILE" in text
    assert "every valid id (org/model) is a public model" in text
    assert '`POST /admin/models {"repository": "org/model", "visibility": "private"}`' in text
    unwrapped = re.sub(r"-\s+", "-", text)  # click may break a line after a hyphen
    assert "acme/private-model, acme/gated-model and acme/absent-model cannot be read" in unwrapped
    assert "provisioner emulator --readme" in text


def test_readme_prints_the_packaged_reference(capsys: pytest.CaptureFixture[str]) -> None:
    shown = run(capsys, "emulator", "--readme")
    assert shown.code == 0, shown.err
    first_heading = README.read_text(encoding="utf-8").splitlines()[0]
    assert first_heading.startswith("# ")
    assert shown.out.splitlines()[0] == first_heading
    assert shown.out == README.read_text(encoding="utf-8")
