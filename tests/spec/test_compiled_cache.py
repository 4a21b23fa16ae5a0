"""The compiled schemas kept between runs (`spec.compiled`): an entry that is corrupted, foreign
or unreadable is compiled again, never trusted, and a folder that cannot be written is no error;
either way a spec is judged as jsonschema judges it."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioner.spec import compiled, schema

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
    return tmp_path / "provisioner" / "validators"


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
    assert compiled._read(entry, compiled._identity(_SMALL, _version())) is not None  # rewritten


def test_an_entry_of_another_schema_under_the_same_name_is_not_used(cache: Path) -> None:
    """The file name is a CRC: the whole key inside the entry decides."""
    compiled.validator(_SMALL)
    (entry,) = cache.iterdir()
    looser = {**_SMALL, "properties": {"size": {"type": "integer", "maximum": 16}}}
    other = (
        cache / f"{compiled.zlib.crc32(compiled._identity(looser, _version()).encode()):08x}.bin"
    )
    entry.rename(other)  # the strict schema's code where the looser one's would be
    assert _judges(compiled.validator(looser)) == (True, True)


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
