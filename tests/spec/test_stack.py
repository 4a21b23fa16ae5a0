"""Stacks: discovery, settings, `_defaults.yaml` merging and provenance."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.spec.model import DesiredState
from provisioner.spec.stack import load_stack

COMPUTE = (
    "compute: {vendor: aws, region: us-east-1, accelerator: cpu, "
    "instance_type: intel-spr, instance_size: x2}\n"
)


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def chdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_nearest_defaults_win_and_the_spec_wins_over_all(chdir: Path) -> None:
    write(
        chdir,
        {
            "endpoints/_defaults.yaml": COMPUTE
            + "model: {env: {A: root, B: root}}\ntags: [root]\nstate: paused\n",
            "endpoints/prod/_defaults.yaml": "model: {env: {B: prod}}\ntags: [prod]\n"
            "compute: {region: eu-west-1}\n",
            "endpoints/prod/svc.yaml": "name: svc\nmodel: {repository: gpt2, env: {C: spec}}\n"
            "state: running\n",
            "endpoints/other.yaml": "name: other\nmodel: {repository: gpt2}\n",
        },
    )
    stack, diagnostics = load_stack(Path("endpoints"))
    assert list(diagnostics) == []
    by_name = {s.name: s for s in stack.specs}
    svc = by_name["svc"]
    # Mappings merge key by key; lists are replaced whole; scalars: nearest wins.
    assert svc.model.env == {"A": "root", "B": "prod", "C": "spec"}
    assert svc.tags == ("prod",)
    assert svc.compute.region == "eu-west-1"
    assert svc.compute.vendor == "aws"
    assert svc.state is DesiredState.RUNNING
    other = by_name["other"]
    assert other.compute.region == "us-east-1"
    assert other.state is DesiredState.PAUSED
    # Provenance: each merged value remembers the file it came from.
    assert str(svc.source.mark("compute", "region")) == "endpoints/prod/_defaults.yaml:3:19"
    assert str(svc.source.mark("compute", "vendor")) == "endpoints/_defaults.yaml:1:19"
    assert str(svc.source.mark("name")) == "endpoints/prod/svc.yaml:1:7"


def test_stack_name_defaults_to_directory_and_settings_override(chdir: Path) -> None:
    write(chdir, {"fleet/a.yaml": "name: a\nmodel: {repository: gpt2}\n" + COMPUTE})
    stack, _ = load_stack(Path("fleet"))
    assert stack.settings.stack == "fleet"
    assert stack.specs[0].namespace is None
    write(chdir, {"fleet/_settings.yaml": "stack: main\nnamespace: acme\n"})
    stack, _ = load_stack(Path("fleet"))
    assert (stack.settings.stack, stack.specs[0].namespace) == ("main", "acme")


def test_spec_namespace_beats_settings(chdir: Path) -> None:
    write(
        chdir,
        {
            "e/_settings.yaml": "namespace: acme\n",
            "e/a.yaml": "name: a\nnamespace: research\nmodel: {repository: gpt2}\n" + COMPUTE,
        },
    )
    stack, _ = load_stack(Path("e"))
    assert stack.specs[0].namespace == "research"


def test_discovery_recurses_takes_yml_and_reports_what_it_does_not_read(chdir: Path) -> None:
    write(
        chdir,
        {
            "e/deep/er/a.yml": "name: a\nmodel: {repository: gpt2}\n" + COMPUTE,
            "e/.git/x.yaml": "not: a spec\n",
            "e/_notes.yaml": "whatever: 1\n",
            "e/readme.txt": "not yaml",
        },
    )
    stack, diagnostics = load_stack(Path("e"))
    assert [s.name for s in stack.specs] == ["a"]
    # Nothing is skipped without a word: a spec that is not read is an endpoint apply deletes.
    assert sorted(str(d) for d in diagnostics) == [
        "e/.git:1:1: warning: hidden folder: not read",
        "e/_notes.yaml:1:1: warning: files starting with '_' are not specs: ignored",
        "e/readme.txt:1:1: warning: not a spec (only .yaml and .yml files are read)",
    ]
    assert not diagnostics.has_errors


def test_settings_below_the_root_is_an_error(chdir: Path) -> None:
    write(chdir, {"e/team/_settings.yaml": "stack: team\n"})
    _, diagnostics = load_stack(Path("e"))
    assert [str(d) for d in diagnostics] == [
        "e/team/_settings.yaml:1:1: error: _settings.yaml is only read at the root of the "
        "spec directory"
    ]


def test_missing_directory_is_a_diagnostic(chdir: Path) -> None:
    _, diagnostics = load_stack(Path("nope"))
    assert [str(d) for d in diagnostics] == ["nope:1:1: error: spec directory not found"]


def test_several_documents_per_file(chdir: Path) -> None:
    write(
        chdir,
        {
            "e/two.yaml": "name: a\nmodel: {repository: gpt2}\n"
            + COMPUTE
            + "---\nname: b\nmodel: {repository: gpt2}\n"
            + COMPUTE
        },
    )
    stack, diagnostics = load_stack(Path("e"))
    assert not diagnostics.has_errors
    assert [(s.name, s.source.document) for s in stack.specs] == [("a", 0), ("b", 1)]
    assert str(stack.specs[1].source.mark("name")) == "e/two.yaml:5:7"


def test_a_schedule_from_defaults_is_replaced_whole_not_merged(chdir: Path) -> None:
    office = (
        "schedule:\n  timezone: Europe/Madrid\n  outside: scaled-to-zero\n  windows:\n"
        "    - {days: mon-fri, hours: '08:00-20:00'}\n"
        "scaling: {min_replicas: 0, max_replicas: 1, scale_to_zero_timeout: 15}\n"
    )
    write(
        chdir,
        {
            "endpoints/_defaults.yaml": COMPUTE + office,
            "endpoints/inherits.yaml": "name: inherits\nmodel: {repository: gpt2}\n",
            # Its own schedule: not one window more, and not the defaults' `outside`.
            "endpoints/own.yaml": "name: own\nmodel: {repository: gpt2}\nschedule:\n"
            "  timezone: America/New_York\n  windows:\n    - {days: sat, hours: '10:00-12:00'}\n",
        },
    )
    stack, diagnostics = load_stack(Path("endpoints"))
    assert list(diagnostics) == []
    by_name = {s.name: s for s in stack.specs}
    inherited = by_name["inherits"].schedule
    assert inherited is not None and inherited.timezone == "Europe/Madrid"
    assert inherited.outside.value == "scaled-to-zero"
    own = by_name["own"].schedule
    assert own is not None and own.timezone == "America/New_York"
    assert [(w.days, w.hours) for w in own.windows] == [(("sat",), "10:00-12:00")]
    assert own.outside.value == "paused"
