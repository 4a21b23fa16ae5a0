"""The compiled schemas kept between runs (`spec.compiled`): an entry that is corrupted, foreign
(written under another key: a shared or restored cache folder) or unreadable is compiled again,
never run, and a folder that cannot be written is no error; either way a spec is judged as
jsonschema judges it."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.spec import compiled, schema, signed

_VALID = {"name": "a", "model": {"repository": "gpt2"}}
_SMALL = {
    "$id": "urn:test:small",
    "type": "object",
    "properties": {"size": {"type": "integer", "maximum": 8}},
    "additionalProperties": False,
}


def _judges(check: object) -> tuple[bool, bool]:
    assert callable(check)

    def ok(data: object) -> bool:
        try:
            check(data)
        except Exception:  # fastjsonschema.JsonSchemaException
            return False
        return True

    return ok({"size": 4}), ok({"size": 9})


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "provisioner" / "validators"


def _key() -> bytes | None:
    return signed.key(create=False)


def test_a_compiled_schema_is_kept_and_read_back(cache: Path) -> None:
    assert _judges(compiled.validator(_SMALL)) == (True, False)
    (entry,) = cache.iterdir()
    written = entry.stat().st_mtime_ns
    assert _judges(compiled.validator(_SMALL)) == (True, False)
    assert entry.stat().st_mtime_ns == written  # read, not compiled and written again


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[: len(blob) // 2],  # cut short
        lambda blob: blob[:100] + bytes([blob[100] ^ 0xFF]) + blob[101:],  # a flipped byte
        lambda blob: b"",
        lambda blob: b"\x00\x00\x00\x00not marshal at all",
    ],
)
def test_a_damaged_entry_is_compiled_again(cache: Path, damage: object) -> None:
    compiled.validator(_SMALL)
    (entry,) = cache.iterdir()
    assert callable(damage)
    entry.write_bytes(damage(entry.read_bytes()))
    assert _judges(compiled.validator(_SMALL)) == (True, False)
    assert compiled._read(entry, compiled._identity(_SMALL, _version()), _key()) is not None


def test_an_entry_of_another_schema_under_the_same_name_is_not_used(cache: Path) -> None:
    """The whole key inside the entry decides, not its file name."""
    compiled.validator(_SMALL)
    (entry,) = cache.iterdir()
    looser = {**_SMALL, "properties": {"size": {"type": "integer", "maximum": 16}}}
    other = cache / f"{compiled._name(compiled._identity(looser, _version()))}.bin"
    entry.rename(other)  # the strict schema's code where the looser one's would be
    assert _judges(compiled.validator(looser)) == (True, True)


def test_an_entry_written_under_another_key_is_never_run(cache: Path) -> None:
    """A cache folder someone else wrote (shared, or restored by a CI cache from another job):
    its code is not run, whatever it says, and it is compiled again under this user's key."""
    import hashlib
    import hmac
    import marshal

    looser = {**_SMALL, "properties": {"size": {"type": "integer", "maximum": 16}}}
    name, code = compiled._compile(looser)
    strict = compiled._identity(_SMALL, _version())
    # The looser schema's code, labelled as the strict one's, signed with the writer's key.
    payload = marshal.dumps((strict, name, code))
    writer = signed.key(create=True)
    assert writer is not None
    planted = cache / f"{compiled._name(strict)}.bin"
    planted.parent.mkdir(parents=True)
    planted.write_bytes(hmac.new(writer, payload, hashlib.sha256).digest() + payload)
    assert _judges(compiled.validator(_SMALL)) == (True, True)  # the writer's own key: run
    planted.write_bytes(hmac.new(writer, payload, hashlib.sha256).digest() + payload)
    signed.key_file().unlink()  # this user's key is another one
    assert _judges(compiled.validator(_SMALL)) == (True, False)  # not run: compiled again
    assert compiled._read(planted, strict, _key()) is not None  # rewritten under this key


def test_without_a_key_nothing_is_kept_or_run(
    cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("x")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocked))
    assert _judges(compiled.validator(_SMALL)) == (True, False)
    assert not cache.exists() or list(cache.iterdir()) == []


def test_a_folder_that_cannot_be_written_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    assert _judges(compiled.validator(_SMALL)) == (True, False)


def test_the_shipped_schemas_compile_and_pass_a_valid_spec() -> None:
    from provisioner.spec.defaults import with_defaults
    from provisioner.spec.loader import Document

    spec = with_defaults(
        {
            **_VALID,
            "compute": {
                "vendor": "aws",
                "region": "us-east-1",
                "accelerator": "cpu",
                "instance_type": "intel-spr",
                "instance_size": "x2",
            },
            "scaling": {"min_replicas": 1, "max_replicas": 1},
        }
    )
    assert schema.plainly_valid(Document(Path("a.yaml"), 0, spec, {}))
    settings = Document(Path("_settings.yaml"), 0, {"stack": "s"}, {})
    assert schema.plainly_valid(settings, schema.settings_schema())
    assert not schema.plainly_valid(
        Document(Path("_settings.yaml"), 0, {"stack": "S"}, {}), schema.settings_schema()
    )


def _version() -> str:
    import fastjsonschema

    return str(fastjsonschema.VERSION)
