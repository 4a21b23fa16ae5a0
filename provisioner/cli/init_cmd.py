"""`provisioner init`: scaffold a specs repository, as `terraform init` and `flux bootstrap` set
one up: the stack's settings, a starter spec, the JSON Schemas editors validate against, the
GitHub workflows (the Action's templates), the pre-commit hook and a `.gitignore`.

It never overwrites a file: one that exists is kept, and the run says so (and, for
`.gitignore` and `.pre-commit-config.yaml`, what to add by hand). Its result passes `validate`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import click
from click.shell_completion import CompletionItem

from provisioner import DISTRIBUTION, REPOSITORY, __version__
from provisioner.cli.options import examples
from provisioner.spec.backend import parse_url
from provisioner.spec.diagnostics import Diagnostics, ProvisionerError
from provisioner.spec.discover import git_root, yaml_files
from provisioner.spec.schema import defaults_schema, endpoint_schema, settings_schema
from provisioner.spec.stack import SETTINGS_NAMES, STACK_NAME_MAX

SPEC_DIR = "endpoints"  # the workflows' `dir:` and `paths:` name it too
SCHEMA_DIR = "schemas"  # outside the spec directory: its discovery warns of other files
STARTER = "flan-t5-base"
SCHEDULE_WORKFLOW = "provisioner-schedule.yml"
GITIGNORE_LINES = (
    "# provisioner: the local state (it has a .gitignore of its own too) and saved plans",
    "/.provisioner/",
    "plan.json",
)

SETTINGS = """\
# yaml-language-server: $schema=../{schema_dir}/settings.schema.json
# The settings of this stack (this directory). provisioner only ever changes endpoints tagged with
# the stack's name, so another stack (another directory, another repository) never touches them.
stack: {stack}
{namespace}
{backend}
"""

NAMESPACE_SET = """\
# Specs without `namespace:` deploy here: a user or an organisation the token can manage.
namespace: {namespace}"""

NAMESPACE_UNSET = """\
# Specs without `namespace:` deploy under the token's own user. To deploy into an organisation
# the token can manage, name it here:
# namespace: my-org"""

BACKEND_SET = """\
# The state (lock, secret fingerprints, history), shared by laptops and CI. PROVISIONER_BACKEND
# overrides it.
backend: {backend}"""

BACKEND_UNSET = """\
# The state (lock, secret fingerprints, history) is local by default: .provisioner/ at the root of
# the git repository, never committed. For a team and CI, share it in S3 (`pip install
# '{distribution}[s3]'`), here or in the PROVISIONER_BACKEND variable:
# backend: s3://my-bucket/provisioner"""

STARTER_SPEC = """\
# yaml-language-server: $schema=../{schema_dir}/endpoint.schema.json
# A starter endpoint: a small text-to-text model on two CPU cores, which costs nothing while
# nobody calls it (it scales to zero after 15 idle minutes). Edit it, or copy it for the next
# endpoint: one YAML document per endpoint, in any *.yaml file under this directory.
# Every field: `provisioner schema`, or the README's "Spec reference".
name: {name}
model:
  repository: google/flan-t5-base
  task: text2text-generation
compute:
  vendor: aws
  region: us-east-1
  accelerator: cpu
  instance_type: intel-spr
  instance_size: x2
scaling:
  min_replicas: 0
  max_replicas: 1
  scale_to_zero_timeout: 15
"""

PRE_COMMIT = """\
# pre-commit (https://pre-commit.com): `pre-commit install` once, then every commit that touches
# a spec is checked by `provisioner validate` (no token needed).
repos:
  - repo: https://github.com/{repository}
    rev: v{version}
    hooks:
      - id: provisioner-validate
"""


@dataclass(frozen=True)
class Planned:
    """A file init writes, unless it exists."""

    path: str  # relative to the repository
    text: str
    hint: str | None = None  # what to do by hand when it exists


def _schema_text(document: dict[str, object]) -> str:
    return json.dumps(document, indent=2) + "\n"


def _scaffold(*, schedules: bool) -> list[Planned]:
    """The workflows and the zizmor policy, as the Action's templates ship them; the one that
    applies schedules every 15 minutes only when asked (a stack without `schedule:` would run
    it 96 times a day for nothing)."""
    root = resources.files("provisioner").joinpath("scaffold")
    planned = [
        Planned(f".github/workflows/{entry.name}", entry.read_text("utf-8"))
        for entry in sorted(root.joinpath("workflows").iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".yml") and (schedules or entry.name != SCHEDULE_WORKFLOW)
    ]
    zizmor = root.joinpath("zizmor.yml")
    if zizmor.is_file():
        planned.append(Planned(".github/zizmor.yml", zizmor.read_text("utf-8")))
    return planned


def _files(
    stack: str, namespace: str | None, backend: str | None, *, schedules: bool, settings_name: str
) -> list[Planned]:
    settings = SETTINGS.format(
        schema_dir=SCHEMA_DIR,
        stack=stack,
        namespace=NAMESPACE_UNSET
        if namespace is None
        else NAMESPACE_SET.format(namespace=namespace),
        backend=BACKEND_UNSET.format(distribution=DISTRIBUTION)
        if backend is None
        else BACKEND_SET.format(backend=backend),
    )
    gitignore = "\n".join(GITIGNORE_LINES) + "\n"
    pre_commit = PRE_COMMIT.format(repository=REPOSITORY, version=__version__)
    return [
        Planned(f"{SPEC_DIR}/{settings_name}", settings),
        Planned(
            f"{SPEC_DIR}/{STARTER}.yaml", STARTER_SPEC.format(schema_dir=SCHEMA_DIR, name=STARTER)
        ),
        Planned(f"{SCHEMA_DIR}/endpoint.schema.json", _schema_text(endpoint_schema())),
        Planned(f"{SCHEMA_DIR}/settings.schema.json", _schema_text(settings_schema())),
        Planned(f"{SCHEMA_DIR}/defaults.schema.json", _schema_text(defaults_schema())),
        *_scaffold(schedules=schedules),
        Planned(
            ".pre-commit-config.yaml",
            pre_commit,
            hint="add the provisioner-validate hook to it:\n" + _indent(pre_commit),
        ),
        Planned(".gitignore", gitignore, hint="make sure it ignores:\n" + _indent(gitignore)),
    ]


def _indent(text: str) -> str:
    return "".join(
        f"             {line}\n" for line in text.splitlines() if not line.startswith("#")
    )


def default_stack(folder: Path) -> str:
    """A valid stack name from the repository's folder name (`ML Platform` -> `ml-platform`)."""
    name = re.sub(r"[^a-z0-9]+", "-", folder.name.lower()).strip("-")
    name = name[:STACK_NAME_MAX].strip("-")
    return name or "endpoints"


# What a value of each option may be, in words; the rule itself is the settings schema's.
_SPELLING = {
    "stack": "1 to 40 lowercase letters, digits and dashes, starting and ending with a letter "
    "or digit, e.g. ml-platform",
    "namespace": "the name of a Hugging Face user or organisation: letters, digits, '.', '_' "
    "and '-', starting and ending with a letter or digit",
}


def _checked(value: str | None, option: str, key: str) -> str | None:
    """`value` against the settings schema's own rule for `key`: a bad option is an error
    before anything is written."""
    if value is None:
        return None
    rule = settings_schema()["properties"][key]
    if len(value) > rule["maxLength"] or not re.fullmatch(rule["pattern"], value):
        raise click.BadParameter(f"{value!r} is not {_SPELLING[key]}", param_hint=option)
    return value


def _has_specs(folder: Path) -> bool:
    """Whether the spec directory holds a spec already (an existing stack gets no starter):
    a YAML file as discovery finds them, whose name does not start with `_`."""
    if not folder.is_dir():
        return False
    return any(not path.name.startswith("_") for path in yaml_files(folder, Diagnostics()))


def _shown(path: Path) -> str:
    """`path` as the user would type it from here."""
    relative = os.path.relpath(path)
    return relative if not relative.startswith("..") else str(path)


@click.command(
    "init",
    epilog=examples(
        "provisioner init",
        "provisioner init infra/endpoints-repo --namespace acme --backend s3://acme-state/endpoints",
    ),
)
@click.argument(
    "directory",
    metavar="[DIR]",
    required=False,
    default=".",
    type=click.Path(path_type=Path),
    # A folder (a file is refused with its own message below), so <TAB> offers folders only.
    shell_complete=lambda ctx, param, incomplete: [CompletionItem(incomplete, type="dir")],
)
@click.option(
    "--stack",
    default=None,
    help="The stack's name (endpoints are tagged with it). Default: DIR's folder name.",
)
@click.option(
    "--namespace",
    default=None,
    help="The user or organisation specs deploy to. Default: the token's own user.",
)
@click.option(
    "--backend",
    default=None,
    help="Where the state lives: local (default) or s3://BUCKET/PREFIX, shared by CI.",
)
@click.option(
    "--schedules",
    is_flag=True,
    help=f"Also write {SCHEDULE_WORKFLOW}, which applies `schedule:` windows every 15 minutes.",
)
def init(
    directory: Path, stack: str | None, namespace: str | None, backend: str | None, schedules: bool
) -> None:
    """Scaffold a specs repository in DIR: settings, a starter spec, schemas, workflows, hooks.

    Writes `endpoints/_settings.yaml`, `endpoints/flan-t5-base.yaml` (google/flan-t5-base on a
    small CPU, scaled to zero when idle), the JSON Schemas in `schemas/` (the specs' editor
    modelines point at them), the GitHub workflows that plan pull requests and apply merges
    through the provisioner Action (with --schedules, also the one that applies schedule
    windows every 15 minutes), `.pre-commit-config.yaml` and `.gitignore`. A file that
    exists is never overwritten: it is kept and listed. Works in an empty folder or an existing
    repository; no token or API access needed.
    """
    if directory.exists() and not directory.is_dir():
        raise ProvisionerError.because(f"{directory} is a file, not a folder")
    has_specs = _has_specs(directory / SPEC_DIR)
    # `_settings.yml` counts as the settings file too: init never writes a second one.
    settings_name = next(
        (n for n in SETTINGS_NAMES if (directory / SPEC_DIR / n).exists()), SETTINGS_NAMES[0]
    )
    # Specs without settings already form a stack named after their directory, and its
    # endpoints carry that name: another default would orphan them.
    existing = has_specs and not (directory / SPEC_DIR / settings_name).exists()
    stack = _checked(stack, "--stack", "stack") or (
        SPEC_DIR if existing else default_stack(directory.resolve())
    )
    _checked(namespace, "--namespace", "namespace")
    if backend is not None:
        try:
            parse_url(backend)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--backend") from error
    created: list[Planned] = []
    kept: list[Planned] = []
    skipped = False
    for planned in _files(
        stack, namespace, backend, schedules=schedules, settings_name=settings_name
    ):
        target = directory / planned.path
        if target.exists() or target.is_symlink():
            kept.append(planned)
            continue
        if has_specs and planned.path == f"{SPEC_DIR}/{STARTER}.yaml":
            skipped = True  # said below
            continue
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("x", encoding="utf-8") as out:
                out.write(planned.text)
        except OSError as error:
            raise ProvisionerError.because(
                f"cannot write {target}: {error.strerror or error}",
                note=f"written so far: {', '.join(p.path for p in created) or 'nothing'}",
            ) from error
        created.append(planned)
    where = _shown(directory.resolve())
    settings = f"{SPEC_DIR}/{settings_name}"
    named = f" (stack {stack!r})" if any(p.path == settings for p in created) else ""
    if created:
        click.echo(f"Initialised a provisioner repository in {where}{named}:")
    else:
        click.echo(f"{where} is a provisioner repository already: nothing to write.")
    for planned in created:
        click.echo(f"  created  {planned.path}")
    if skipped:
        click.echo(f"  skipped  {SPEC_DIR}/{STARTER}.yaml ({SPEC_DIR}/ holds specs already)")
    for planned in kept:
        click.echo(f"  kept     {planned.path} (exists)")
        if planned.hint is not None and not _has_all(directory / planned.path, planned.text):
            click.echo(f"           {planned.hint}", nl=False)
    _outside_root(directory)
    _next_steps(directory)


def _outside_root(directory: Path) -> None:
    """GitHub reads workflows, and pre-commit its config, only at a repository's root (and the
    workflows name `endpoints` relative to it): say so when DIR is a folder inside one."""
    root = git_root(directory.resolve())
    if root is None or root == directory.resolve():
        return
    click.echo(
        f"warning: {_shown(directory.resolve())} is inside the git repository {_shown(root)}: "
        "GitHub runs only the workflows in the root's .github/workflows/, pre-commit reads only "
        "the root's .pre-commit-config.yaml, and the workflows plan `endpoints` at the root. "
        "Run `provisioner init` at the root, or move these files there and set the Action's "
        "`dir:` and `paths:` to this folder's endpoints/",
        err=True,
    )


def _has_all(path: Path, wanted: str) -> bool:
    """Whether a kept file already holds every meaningful line init would have written."""
    try:
        have = {line.strip() for line in path.read_text("utf-8", errors="replace").splitlines()}
    except OSError:
        return False
    return all(
        line.strip() in have
        for line in wanted.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    )


def _next_steps(directory: Path) -> None:
    specs = directory / SPEC_DIR
    dir_option = (
        ""
        if specs.resolve() == Path(SPEC_DIR).resolve()
        else f" --dir {shlex.quote(_shown(specs))}"
    )
    steps = [
        (f"provisioner validate{dir_option}", "checks the specs; no token needed"),
        (f"provisioner plan{dir_option}", "with HF_TOKEN set: what apply would create"),
        (f"provisioner apply{dir_option}", "creates it, after asking"),
    ]
    width = max(len(command) for command, _ in steps)
    click.echo("\nNext:")
    for command, what in steps:
        click.echo(f"  {command.ljust(width)}  # {what}")
    click.echo(
        "  Try it without an account first: run `provisioner emulator` in another terminal; it\n"
        "  prints the variables to set for plan and apply (its URL and its demo token)."
    )
    click.echo(
        "  On GitHub: a repository secret HF_TOKEN_READ (a read-only token: plans, drift); an\n"
        "  environment `production` that only main may deploy to, holding the secrets HF_TOKEN\n"
        "  (and PROVISIONER_SECRETS, a JSON object of the specs' from_env values); for S3 state\n"
        "  the variables PROVISIONER_BACKEND, PROVISIONER_AWS_ROLE (read-write),\n"
        "  PROVISIONER_AWS_PLAN_ROLE (read-only) and AWS_REGION. README: 'Adopt it in your\n"
        "  repository'."
    )
