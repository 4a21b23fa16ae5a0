"""The spec cache (`provisioner.spec.cache`): a run with it says and plans byte for byte what a
run without it does, checks again only the files that changed, and never trusts a cache it did
not write itself."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from provisioner.spec import cache as spec_cache
from provisioner.spec import signed, stack
from provisioner.spec.cache import SpecCache
from provisioner.spec.diagnostics import Diagnostics
from provisioner.spec.stack import Stack, load_stack
from tests.spec.test_bad_input_corpus import CASES as BAD_VALUES
from tests.spec.test_bad_input_corpus import _spec_with
from tests.support.cli import run

ROOT = Path(__file__).parent.parent
INVALID = sorted(p for p in (ROOT / "cases" / "invalid").iterdir() if p.is_dir())
EXAMPLES = ROOT.parent / "endpoints"
HOSTILE: dict[str, bytes] = {
    "nested.yaml": b"[" * 5000 + b"]" * 5000,
    "deep.yaml": b"".join(b"  " * i + b"k:\n" for i in range(80)) + b"  " * 80 + b"v\n",
    "bomb.yaml": b"a: &a [x, x, x, x, x, x, x, x, x]\n"
    + b"".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n".encode()
        for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    ),
    "latin1.yaml": "name: caf\xe9\n".encode("latin-1"),
    "tagged.yaml": b"name: !!python/object:os.system x\n",
    "empty.yaml": b"",
    "a-list.yaml": b"- name: x\n",
    "two.yaml": b"name: one\nmodel: {repository: gpt2}\n---\nname: two\nmodel: 7\n",
    "syntax.yaml": b"name: [unclosed\n",
}


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The spec files a run checked (rather than took from the cache), in order."""
    files: list[Path] = []
    real = stack._check_bytes

    def counting(raw: bytes, shown: Path, context: Any) -> stack.FileResult:
        files.append(shown)
        return real(raw, shown, context)

    monkeypatch.setattr(stack, "_check_bytes", counting)
    return files


def _cached(root: Path) -> tuple[Stack, Diagnostics]:
    return load_stack(root, cache=SpecCache.for_stack(root, {}))


def _seen(result: tuple[Stack, Diagnostics]) -> tuple[Any, ...]:
    """What a user sees of a load: every diagnostic as printed, in order, and every spec with
    its source file and every mark it carries."""
    loaded, diagnostics = result
    return (
        [str(d) for d in diagnostics],
        [str(d) for d in diagnostics.sorted()],
        loaded.settings,
        [
            (repr(s), s, s.source.file, s.source.document, sorted(dict(s.source.marks).items()))
            for s in loaded.specs
        ],
    )


def _corpus(folder: Path) -> Path:
    """Every bad value of the schema corpus (tests/spec/test_bad_input_corpus.py), a spec per
    file, and the hostile files above, in one stack."""
    folder.mkdir(parents=True)
    for index, case in enumerate(BAD_VALUES):
        path, value = case.values
        text = _spec_with(path, value)
        if path != ("name",):
            text = text.replace("name: svc", f"name: svc-{index}", 1)
        (folder / f"bad-{index:03d}.yaml").write_text(text)
    for name, raw in HOSTILE.items():
        (folder / name).write_bytes(raw)
    return folder


def _stacks(tmp: Path) -> list[Path]:
    folders = []
    for case in INVALID:
        folders.append(tmp / case.name)
        shutil.copytree(case, folders[-1])
    folders.append(tmp / "examples")
    shutil.copytree(EXAMPLES, folders[-1])
    folders.append(_corpus(tmp / "corpus"))
    return folders


def test_with_the_cache_every_stack_loads_exactly_as_without_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, checked: list[Path]
) -> None:
    """The golden invalid cases, the examples and the hostile-input corpus: cold (writing the
    cache) and warm (reading it) give the very diagnostics, in the same order, and the same
    specs with the same marks as a load without the cache."""
    monkeypatch.chdir(tmp_path)
    folders = _stacks(Path())
    assert len(folders) > 20
    for folder in folders:
        without = _seen(load_stack(folder))
        checked.clear()
        cold = _seen(_cached(folder))
        assert checked, folder
        checked.clear()
        warm = _seen(_cached(folder))
        assert checked == [], f"{folder}: checked again {checked}"
        assert cold == without, folder
        assert warm == without, folder
    corpus = _seen(load_stack(Path("corpus")))
    assert len(corpus[0]) > 300  # the corpus is as hostile as meant: hundreds of errors


def test_the_invalid_cases_print_the_same_through_a_warm_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`provisioner validate`, as a user runs it twice, against the golden expected output."""
    for case in INVALID:
        folder = tmp_path / case.name
        shutil.copytree(case, folder)
        monkeypatch.chdir(folder)
        first, second = run(capsys, "validate"), run(capsys, "validate")
        expected = (case / "expected.txt").read_text()
        assert (first.code, first.err) == (second.code, second.err) == (1, expected), case.name


def test_only_the_files_that_changed_are_checked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, checked: list[Path]
) -> None:
    monkeypatch.chdir(tmp_path)
    root = Path("examples")
    shutil.copytree(EXAMPLES, root)
    specs = sorted(p for p in root.rglob("*.yaml") if not p.name.startswith("_"))
    _cached(root)
    assert len(checked) == len(specs) > 3

    checked.clear()
    edited = specs[1]
    edited.write_text(edited.read_text() + "tags: [edited]\n")
    result = _cached(root)
    assert checked == [edited]
    assert _seen(result) == _seen(load_stack(root))

    # A `_defaults.yaml` is part of every spec below it: they are all checked again.
    defaults = next(root.rglob("_defaults.yaml"))
    below = [s for s in specs if defaults.parent in s.parents]
    checked.clear()
    defaults.write_text(defaults.read_text() + "\n# edited\n")
    result = _cached(root)
    assert sorted(checked) == sorted(below)
    assert _seen(result) == _seen(load_stack(root))

    # The settings (namespace, policies) are part of every spec.
    checked.clear()
    settings = root / "_settings.yaml"
    settings.write_text(settings.read_text() + "\n# edited\n")
    _cached(root)
    assert sorted(checked) == specs


def test_a_spec_made_invalid_is_reported_whatever_the_cache_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    root = Path("examples")
    shutil.copytree(EXAMPLES, root)
    assert not _cached(root)[1].has_errors
    spec = next(p for p in sorted(root.rglob("*.yaml")) if not p.name.startswith("_"))
    spec.write_text(spec.read_text() + "\nreplicas: 3\n")
    _, diagnostics = _cached(root)
    assert [str(d) for d in diagnostics] == [str(d) for d in load_stack(root)[1]]
    assert any("replicas" in str(d) and d.severity.value == "error" for d in diagnostics)


def _forge(root: Path, spec: Path, valid_text: str, *, sealed_with: bytes) -> None:
    """A cache that says the (now invalid) `spec` is the valid spec it was: the entry of its
    valid text put under the key of its invalid text, sealed with `sealed_with`."""
    path = spec_cache.location(root, {})
    payload = signed.unseal(sealed_with, path.read_bytes())
    assert payload is not None
    entries = spec_cache._entries(payload)
    keys = stack._Keys(root, True)
    valid = entries[keys.file(spec, spec, valid_text.encode())]
    entries[keys.file(spec, spec, spec.read_bytes())] = valid
    signed.write(path, sealed_with, spec_cache._parts(bytes(payload[:32]), entries))


def test_a_cache_written_with_another_key_is_ignored_with_a_warning_and_hides_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, checked: list[Path]
) -> None:
    """Another user's cache (or a CI cache restored without its key) that claims a broken spec
    is valid: with the writer's own key it would be believed, so the forgery is real; under
    this user's key it is ignored, said so, and the error is reported."""
    monkeypatch.chdir(tmp_path)
    root = Path("examples")
    shutil.copytree(EXAMPLES, root)
    writer = tmp_path / "writer-state"
    monkeypatch.setenv("XDG_STATE_HOME", str(writer))
    _cached(root)
    writer_key = signed.key(create=False)
    assert writer_key is not None
    spec = next(p for p in sorted(root.rglob("*.yaml")) if not p.name.startswith("_"))
    valid_text = spec.read_text()
    spec.write_text(valid_text + "replicas: 3\n")
    expected = [str(d) for d in load_stack(root)[1]]
    assert any("replicas" in line for line in expected)

    _forge(root, spec, valid_text, sealed_with=writer_key)
    forged = spec_cache.location(root, {}).read_bytes()
    assert not _cached(root)[1].has_errors  # the writer's own key: believed (hence the key)

    spec_cache.location(root, {}).write_bytes(forged)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "this-user-state"))
    checked.clear()
    _, diagnostics = _cached(root)
    lines = [str(d) for d in diagnostics]
    shown = spec_cache.location(root, {}).relative_to(tmp_path)
    warning = f"{shown}:1:1: warning: spec cache ignored: it is damaged or was written with"
    assert [line for line in lines if line.startswith(warning)], lines
    assert [line for line in lines if "spec cache" not in line] == expected
    assert len(checked) > 3  # every spec checked again
    checked.clear()
    _, again = _cached(root)  # written anew under this user's key: no warning, all cached
    assert [str(d) for d in again] == expected
    assert checked == []


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda b: b[: len(b) // 2], id="truncated"),
        pytest.param(lambda b: b[:100] + bytes([b[100] ^ 1]) + b[101:], id="one-bit"),
        pytest.param(lambda b: b"", id="empty"),
    ],
)
def test_a_damaged_cache_is_ignored_with_a_warning(
    damage: Callable[[bytes], bytes], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    root = Path("examples")
    shutil.copytree(EXAMPLES, root)
    _cached(root)
    path = spec_cache.location(root, {})
    path.write_bytes(damage(path.read_bytes()))
    stack_, diagnostics = _cached(root)
    assert [d.message.split(":")[0] for d in diagnostics] == ["spec cache ignored"]
    assert _seen((stack_, Diagnostics())) == _seen((load_stack(root)[0], Diagnostics()))
    assert not list(_cached(root)[1])  # written anew


def test_a_cache_of_another_version_is_replaced_silently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, checked: list[Path]
) -> None:
    monkeypatch.chdir(tmp_path)
    root = Path("examples")
    shutil.copytree(EXAMPLES, root)
    _cached(root)
    monkeypatch.setattr(spec_cache, "__version__", "99.0.0")
    checked.clear()
    result = _cached(root)
    assert not list(result[1])
    assert checked  # nothing taken from the older version's cache
    assert _seen(result) == _seen(load_stack(root))


def test_validate_keeps_its_cache_in_the_repository_ignored_by_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A specs-only repository that does not ignore `.provisioner/`: the cache is there, under
    the git root, and git sees nothing new."""
    monkeypatch.delenv("PROVISIONER_SPEC_CACHE")  # the suite's own folder (tests/conftest.py)
    repo = tmp_path / "team-specs"
    shutil.copytree(EXAMPLES, repo / "endpoints")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "add", "."], check=True)
    monkeypatch.chdir(repo / "endpoints")
    assert run(capsys, "validate", "--dir", ".").code == 0
    assert spec_cache.location(Path(), {}).parent == repo / ".provisioner" / "cache"
    assert spec_cache.location(Path(), {}).is_file()
    status = subprocess.run(
        ["git", "-C", str(repo), "status", "--porcelain", "--untracked-files=all"],
        check=True,
        capture_output=True,
        text=True,
    )
    assert [line for line in status.stdout.splitlines() if not line.startswith("A ")] == []


def test_turned_off_the_cache_is_neither_read_nor_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copytree(EXAMPLES, tmp_path / "endpoints")
    monkeypatch.setenv("PROVISIONER_SPEC_CACHE", "off")
    assert run(capsys, "validate").code == 0
    assert not (tmp_path / "endpoints" / ".provisioner").exists()


def test_the_cache_goes_in_the_folder_the_variable_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copytree(EXAMPLES, tmp_path / "endpoints")
    monkeypatch.setenv("PROVISIONER_SPEC_CACHE", "ci-cache/specs")
    assert run(capsys, "validate").code == 0
    names = sorted(p.name for p in (tmp_path / "ci-cache" / "specs").iterdir())
    assert len(names) == 2 and names[0] == ".gitignore" and names[1].startswith("specs-")
    assert not (tmp_path / "endpoints" / ".provisioner").exists()


def test_validate_of_some_files_keeps_the_rest_of_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, checked: list[Path]
) -> None:
    """The pre-commit hook checks the changed files only; what the cache held for the others
    stays, so the next full run checks nothing again."""
    monkeypatch.chdir(tmp_path)
    root = Path("examples")
    shutil.copytree(EXAMPLES, root)
    _cached(root)
    spec = next(p for p in sorted(root.rglob("*.yaml")) if not p.name.startswith("_"))
    data = yaml.safe_load(spec.read_text())
    spec.write_text(yaml.safe_dump({**data, "tags": ["edited"]}))
    checked.clear()
    load_stack(root, only=[spec], cache=SpecCache.for_stack(root, {}))
    assert checked == [spec]
    checked.clear()
    _cached(root)
    assert checked == []
