"""The stack's policies (`policies:` in `_settings.yaml`): each rule refuses a spec that breaks
it at the spec's own line, naming the policy and what it allows, and lets one that follows it
through; all of them in one `validate` run, without a token."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.cli import run

SHA = "e7da7f221d5bf496a48136c0cd264e630fe9fcc8"
SPEC = """\
name: {name}
model:
  repository: gpt2
  revision: {revision}
compute:
  vendor: {vendor}
  region: {region}
  accelerator: cpu
  instance_type: {instance_type}
  instance_size: x2
scaling:
  min_replicas: {min_replicas}
  max_replicas: {max_replicas}
{timeout}type: {type}
"""
GOOD = {
    "revision": SHA,
    "vendor": "aws",
    "region": "us-east-1",
    "instance_type": "intel-spr",
    "min_replicas": 0,
    "max_replicas": 2,
    "type": "authenticated",
}
POLICIES = """\
stack: team
policies:
  vendors: [aws]
  regions: [us-east-1, us-east-2]
  instance_types: [intel-spr, nvidia-l4]
  max_replicas: 4
  require_pinned_revision: true
  forbid_public: true
  require_scale_to_zero: [dev]
"""


def spec(name: str = "svc", **changes: object) -> str:
    fields = {**GOOD, **changes}
    timeout = "  scale_to_zero_timeout: 15\n" if fields["min_replicas"] == 0 else ""
    return SPEC.format(name=name, timeout=timeout, **fields)


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


@pytest.fixture
def chdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def validate(
    capsys: pytest.CaptureFixture[str], files: dict[str, str], root: Path
) -> tuple[int, str]:
    write(root, {"endpoints/_settings.yaml": POLICIES, **files})
    result = run(capsys, "validate", "--dir", "endpoints")
    return result.code, result.err


# One row per rule: the spec that breaks it (with the line and column the error points at) and
# the sentence, then a spec that follows it.
BREAKS = [
    (
        {"vendor": "gcp"},
        "dev/svc.yaml:6:11",
        "compute.vendor: 'gcp' is not allowed by policies.vendors (allowed: aws)",
    ),
    (
        {"region": "eu-west-1"},
        "dev/svc.yaml:7:11",
        "compute.region: 'eu-west-1' is not allowed by policies.regions "
        "(allowed: us-east-1, us-east-2)",
    ),
    (
        {"instance_type": "nvidia-a100"},
        "dev/svc.yaml:9:18",
        "compute.instance_type: 'nvidia-a100' is not allowed by policies.instance_types "
        "(allowed: intel-spr, nvidia-l4)",
    ),
    (
        {"max_replicas": 8},
        "dev/svc.yaml:13:17",
        "scaling.max_replicas: 8 is more than policies.max_replicas allows (at most 4)",
    ),
    (
        {"revision": "main"},
        "dev/svc.yaml:4:13",
        "model.revision: 'main' is not a commit sha; policies.require_pinned_revision "
        "requires one (40 lowercase hex characters)",
    ),
    (
        {"revision": SHA[:7]},
        "dev/svc.yaml:4:13",
        f"model.revision: '{SHA[:7]}' is not a commit sha",
    ),
    (
        {"type": "public"},
        "dev/svc.yaml:15:7",
        "type: 'public' is not allowed by policies.forbid_public (allowed: authenticated, private)",
    ),
    (
        {"min_replicas": 1},
        "dev/svc.yaml:12:17",
        "scaling.min_replicas: 1 is not allowed by policies.require_scale_to_zero ('dev'): "
        "specs under it must scale to zero (min_replicas: 0 with a scale_to_zero_timeout)",
    ),
]


@pytest.mark.parametrize(
    ("changes", "where", "message"),
    BREAKS,
    ids=[m.split(":")[0] + f"-{i}" for i, (_, _, m) in enumerate(BREAKS)],
)
def test_a_spec_breaking_a_policy_is_an_error_at_its_line(
    changes: dict[str, object],
    where: str,
    message: str,
    chdir: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, err = validate(capsys, {"endpoints/dev/svc.yaml": spec(**changes)}, chdir)
    assert code == 1
    assert f"endpoints/{where}: error: {message}" in err, err
    assert err.endswith("1 error\n"), err


def test_a_spec_following_every_policy_is_valid(
    chdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = validate(
        capsys,
        {
            "endpoints/dev/svc.yaml": spec(),
            # The other allowed values, and outside dev/ replicas may stay up.
            "endpoints/prod/llm.yaml": spec(
                "llm",
                region="us-east-2",
                instance_type="nvidia-l4",
                min_replicas=1,
                max_replicas=4,
                type="private\nprivate_link: {account_id: '123456789012', region: us-east-1}",
            ),
        },
        chdir,
    )
    assert (code, err) == (0, "")


def test_without_policies_anything_the_schema_accepts_is_valid(
    chdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        chdir,
        {
            "endpoints/_settings.yaml": "stack: team\n",
            "endpoints/dev/svc.yaml": spec(
                vendor="gcp",
                region="us-east4",
                revision="main",
                type="public",
                min_replicas=1,
                max_replicas=8,
            ),
        },
    )
    result = run(capsys, "validate", "--dir", "endpoints")
    assert (result.code, result.err) == (0, "")


def test_every_violation_of_every_spec_in_one_run(
    chdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = validate(
        capsys,
        {
            "endpoints/dev/a.yaml": spec("a", region="eu-west-1", type="public", min_replicas=1),
            "endpoints/prod/b.yaml": spec("b", vendor="azure", region="eastus", max_replicas=9),
        },
        chdir,
    )
    assert code == 1
    assert err.splitlines() == [
        "endpoints/dev/a.yaml:7:11: error: compute.region: 'eu-west-1' is not allowed by "
        "policies.regions (allowed: us-east-1, us-east-2)",
        "endpoints/dev/a.yaml:12:17: error: scaling.min_replicas: 1 is not allowed by "
        "policies.require_scale_to_zero ('dev'): specs under it must scale to zero "
        "(min_replicas: 0 with a scale_to_zero_timeout)",
        "endpoints/dev/a.yaml:14:7: error: type: 'public' is not allowed by "
        "policies.forbid_public (allowed: authenticated, private)",
        "endpoints/prod/b.yaml:6:11: error: compute.vendor: 'azure' is not allowed by "
        "policies.vendors (allowed: aws)",
        "endpoints/prod/b.yaml:7:11: error: compute.region: 'eastus' is not allowed by "
        "policies.regions (allowed: us-east-1, us-east-2)",
        "endpoints/prod/b.yaml:13:17: error: scaling.max_replicas: 9 is more than "
        "policies.max_replicas allows (at most 4)",
        "6 errors",
    ]


def test_an_unset_revision_breaks_require_pinned_revision(
    chdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = spec().replace(f"  revision: {SHA}\n", "")
    code, err = validate(capsys, {"endpoints/dev/svc.yaml": text}, chdir)
    assert code == 1
    assert (  # at the model mapping, which has no revision to point at
        "endpoints/dev/svc.yaml:3:3: error: model.revision: not set (the default branch, which "
        "moves); policies.require_pinned_revision requires a commit sha" in err
    ), err


def test_scale_to_zero_covers_sub_folders_only(
    chdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = validate(
        capsys,
        {
            "endpoints/dev/team-a/deep.yaml": spec("deep", min_replicas=1),
            "endpoints/devops/svc.yaml": spec("svc", min_replicas=1),  # not under dev/
            "endpoints/top.yaml": spec("top", min_replicas=1),
        },
        chdir,
    )
    assert code == 1
    assert "endpoints/dev/team-a/deep.yaml:12:17: error: scaling.min_replicas: 1" in err
    assert err.endswith("1 error\n"), err


def test_a_value_inherited_from_defaults_is_reported_once_at_the_defaults_line(
    chdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = validate(
        capsys,
        {
            "endpoints/dev/_defaults.yaml": "type: public\n",
            "endpoints/dev/a.yaml": spec("a").replace("type: authenticated\n", ""),
            "endpoints/dev/b.yaml": spec("b").replace("type: authenticated\n", ""),
        },
        chdir,
    )
    assert code == 1
    assert err.splitlines() == [
        "endpoints/dev/_defaults.yaml:1:7: error: type: 'public' is not allowed by "
        "policies.forbid_public (allowed: authenticated, private) (inherited by 2 specs: "
        "endpoints/dev/a.yaml, endpoints/dev/b.yaml)",
        "1 error",
    ]


@pytest.mark.parametrize(
    ("policies", "message"),
    [
        (
            "  region: [us-east-1]\n",
            "endpoints/_settings.yaml:3:3: error: policies: unknown key 'region'; "
            "did you mean 'regions'?",
        ),
        (
            "  max_replicas: lots\n",
            "endpoints/_settings.yaml:3:17: error: policies.max_replicas: expected an integer, "
            "got a string",
        ),
        (
            "  forbid_public: yes please\n",
            "endpoints/_settings.yaml:3:18: error: policies.forbid_public: expected true or "
            "false, got a string",
        ),
        (
            "  vendors: [aws, aws]\n",
            "endpoints/_settings.yaml:3:18: error: policies.vendors: 'aws' is listed twice",
        ),
        (
            "  vendors: [amazon]\n",
            "endpoints/_settings.yaml:3:13: error: policies.vendors[0]: 'amazon' is not one of "
            "aws, azure, gcp",
        ),
        (
            "  regions: []\n",
            "endpoints/_settings.yaml:3:12: error: policies.regions: must list at least one "
            "value; remove it to allow any",
        ),
        (
            "  regions: us-east-1\n",
            "endpoints/_settings.yaml:3:12: error: policies.regions: expected a list, got a string",
        ),
        (
            "  require_scale_to_zero: [../dev]\n",
            "endpoints/_settings.yaml:3:27: error: policies.require_scale_to_zero: '../dev' is "
            "not a folder inside the spec directory: write it relative to the directory, e.g. "
            "dev",
        ),
        (
            "  require_scale_to_zero: [/srv/dev]\n",
            "endpoints/_settings.yaml:3:27: error: policies.require_scale_to_zero[0]: "
            "'/srv/dev' is invalid: write a folder relative to the spec directory, e.g. dev",
        ),
    ],
)
def test_a_bad_policies_block_is_a_located_settings_error(
    policies: str, message: str, chdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        chdir,
        {
            "endpoints/_settings.yaml": "stack: team\npolicies:\n" + policies,
            "endpoints/svc.yaml": spec(),
        },
    )
    result = run(capsys, "validate", "--dir", "endpoints")
    assert result.code == 1
    assert result.err.splitlines() == [message, "1 error"]


def test_a_scale_to_zero_folder_that_does_not_exist_is_a_warning(
    chdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(
        chdir,
        {
            "endpoints/_settings.yaml": "stack: team\npolicies:\n  require_scale_to_zero: [dve]\n",
            "endpoints/dev/svc.yaml": spec(min_replicas=1),
        },
    )
    result = run(capsys, "validate", "--dir", "endpoints")
    assert result.code == 0, result.err
    assert result.err.splitlines()[0] == (
        "endpoints/_settings.yaml:3:27: warning: policies.require_scale_to_zero: no folder "
        "'dve' in the spec directory: the policy applies to no spec"
    )
