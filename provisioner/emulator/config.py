"""Emulator configuration: the frozen `EmulatorConfig` value and its JSON file loader.

Owns the shape of everything a user can tune (users, orgs, quotas, durations, speed, faults) and the
validation of a `--config FILE`. It must not start anything or read the clock: it only describes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from provisioner.emulator.clock import MAX_SPEED

# namespace -> vendor -> instanceType -> maxAccelerators. Namespace "*" applies to every namespace.
Quotas = Mapping[str, Mapping[str, Mapping[str, int]]]

TOKEN_ROLES = ("read", "write")


class ConfigError(ValueError):
    """A configuration value or file is invalid; the message names the offending key."""


@dataclass(frozen=True)
class TokenConfig:
    """An access token. `read` tokens may read but every mutating call answers 403."""

    value: str
    role: str = "write"


@dataclass(frozen=True)
class UserConfig:
    name: str
    tokens: tuple[TokenConfig, ...]
    orgs: tuple[str, ...] = ()
    fullname: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class OrgConfig:
    name: str
    fullname: str | None = None


@dataclass(frozen=True)
class Durations:
    """Emulated seconds each transition takes; every one is scaled by `EmulatorConfig.speed`."""

    pending: float = 3.0
    initializing: float = 12.0
    updating: float = 8.0
    resume: float = 5.0
    scale_up: float = 5.0
    delete_grace: float = 1.0
    # After the grace period, GET is 404 but a create of the same name is still 409 "already
    # exists" for this long (0: free at once). Not seen in any capture: an inference, so that
    # tests can prove a replacement survives it.
    name_reserved: float = 0.0


def _default_users() -> tuple[UserConfig, ...]:
    return (
        UserConfig(
            name="demo",
            tokens=(TokenConfig("hf_demo"),),
            orgs=("acme",),
            fullname="Demo User",
            email="demo@example.com",
        ),
    )


def _default_orgs() -> tuple[OrgConfig, ...]:
    return (OrgConfig(name="acme", fullname="ACME Corp"),)


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything the emulator can be told; all fields have defaults (user `demo`, `hf_demo`)."""

    speed: float = 1.0
    latency_ms: int = 0
    fault_rate: float = 0.0
    seed: int | None = None
    data_file: Path | None = None
    users: tuple[UserConfig, ...] = field(default_factory=_default_users)
    orgs: tuple[OrgConfig, ...] = field(default_factory=_default_orgs)
    quotas: Quotas = field(default_factory=dict)
    durations: Durations = field(default_factory=Durations)
    # Wall-clock origin of emulated time (`createdAt`...); None = the real time at start.
    epoch: datetime | None = None
    # Oldest request-log entries are dropped beyond this many: a long demo stays bounded.
    request_log_limit: int = 10_000
    # Replace the packaged hardware matrix (same format as `provisioner/emulator/hardware.json`).
    hardware_file: Path | None = None
    # Add `HF_TOKEN: "***"` to every returned `model.env`, as third-party providers report the
    # API doing (the realistic captures show `env: {}`, hence off by default).
    inject_hf_token: bool = False
    # Page the list route (`{"items", "nextCursor"}`) this many endpoints at a time; None = one
    # page with everything (what huggingface_hub, which reads only `items`, needs). A request's
    # `?limit=N` pages too.
    list_page_size: int | None = None
    # Leave `model.secrets` out of every response: whether the real service echoes secret names
    # is unknown (the fixtures show them, nothing shows the live API), so tests prove both.
    omit_secrets: bool = False
    # Drop the image options an engine's official docs do not declare (vLLM's `maxModelLen`,
    # `gpuMemoryUtilization`, `enforceEager`), on create and update alike, as huggingface_hub
    # says the API drops what an engine does not declare: the answers then lack them. Whether
    # the real service keeps them is unknown (the live suite records it), so tests prove both.
    drop_undocumented_options: bool = False
    # Answer 409 to an update of an endpoint still starting (pending or initializing, after a
    # create or a resume). Whether the real service takes a PUT right after a resume is
    # unknown: provisioner sends it at once and, refused so, waits until it runs and sends it
    # again; tests prove both.
    refuse_updates_while_starting: bool = False
    # Answer `type: "protected"` for every `authenticated` endpoint, as the service did before
    # the rename (its 2025-03 catalog capture still says `protected` for a new endpoint) and may
    # still do for old endpoints; what a client sends is unchanged.
    legacy_protected: bool = False
    # Seconds a connection may sit without sending (mid-request or idle between keep-alive
    # requests) before the server closes it: a slow or stalled client cannot hold a thread.
    idle_timeout: float = 30.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.idle_timeout) or self.idle_timeout <= 0:
            raise ConfigError(f"idle_timeout must be > 0 seconds, got {self.idle_timeout!r}")
        if not math.isfinite(self.speed) or not 0 <= self.speed <= MAX_SPEED:
            raise ConfigError(
                f"speed must be a number between 0 and {MAX_SPEED:g}, got {self.speed!r}"
            )
        if self.latency_ms < 0:
            raise ConfigError(f"latency_ms must be >= 0, got {self.latency_ms!r}")
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ConfigError(f"fault_rate must be between 0 and 1, got {self.fault_rate!r}")
        if self.request_log_limit < 1:
            raise ConfigError("request_log_limit must be >= 1")
        if self.list_page_size is not None and self.list_page_size < 1:
            raise ConfigError(f"list_page_size must be >= 1, got {self.list_page_size!r}")
        _check_identities(self.users, self.orgs)


def _check_identities(users: tuple[UserConfig, ...], orgs: tuple[OrgConfig, ...]) -> None:
    names = [u.name for u in users] + [o.name for o in orgs]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"users and orgs must have distinct names, repeated: {duplicates}")
    tokens = [t.value for u in users for t in u.tokens]
    if len(tokens) != len(set(tokens)):
        raise ConfigError("a token value is given to more than one user")
    org_names = {o.name for o in orgs}
    for user in users:
        unknown = [o for o in user.orgs if o not in org_names]
        if unknown:
            raise ConfigError(f"users[{user.name}].orgs: unknown org(s) {unknown}")
        for token in user.tokens:
            if token.role not in TOKEN_ROLES:
                raise ConfigError(f"users[{user.name}].tokens: role must be one of {TOKEN_ROLES}")


# --- JSON file loader -------------------------------------------------------------------------

# The behaviour switches a config file may set too (the service's unknowns: tests run both).
_SWITCHES = {
    "inject_hf_token",
    "omit_secrets",
    "drop_undocumented_options",
    "refuse_updates_while_starting",
    "legacy_protected",
}
_FILE_KEYS = {"users", "orgs", "quotas", "durations", *_SWITCHES}


def load_config_file(path: Path, base: EmulatorConfig | None = None) -> EmulatorConfig:
    """Read a JSON config file (users/orgs/quotas/durations and the behaviour switches) over
    `base` (defaults if None).

    Keys that are absent keep the base value; the format is documented in the emulator README.
    """
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"cannot read {path}: {err.strerror or err}") from err
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path}: not valid JSON: {err}") from err
    return config_from_mapping(raw, base or EmulatorConfig())


def config_from_mapping(raw: object, base: EmulatorConfig) -> EmulatorConfig:
    obj = _as_dict(raw, "config")
    unknown = sorted(set(obj) - _FILE_KEYS)
    if unknown:
        raise ConfigError(f"unknown key(s) {unknown}; expected some of {sorted(_FILE_KEYS)}")
    changes: dict[str, Any] = {}
    if "users" in obj:
        changes["users"] = tuple(
            _user(u, f"users[{i}]") for i, u in enumerate(_as_list(obj["users"], "users"))
        )
    if "orgs" in obj:
        changes["orgs"] = tuple(
            _org(o, f"orgs[{i}]") for i, o in enumerate(_as_list(obj["orgs"], "orgs"))
        )
    if "quotas" in obj:
        changes["quotas"] = _quotas(obj["quotas"])
    if "durations" in obj:
        changes["durations"] = _durations(obj["durations"], base.durations)
    for key in sorted(_SWITCHES & set(obj)):
        if not isinstance(obj[key], bool):
            raise ConfigError(f"{key}: expected true or false")
        changes[key] = obj[key]
    try:
        return replace(base, **changes)
    except ConfigError:
        raise
    except (TypeError, ValueError) as err:  # pragma: no cover - replace() re-validates
        raise ConfigError(str(err)) from err


def _as_dict(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected an object")
    return value


def _as_list(value: object, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(f"{where}: expected a list")
    return value


def _as_str(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: expected a non-empty string")
    return value


def _opt_str(obj: dict[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    return None if value is None else _as_str(value, f"{where}.{key}")


def _user(raw: object, where: str) -> UserConfig:
    obj = _as_dict(raw, where)
    unknown = sorted(set(obj) - {"name", "tokens", "orgs", "fullname", "email"})
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}")
    tokens: list[TokenConfig] = []
    for i, tok in enumerate(_as_list(obj.get("tokens", []), f"{where}.tokens")):
        at = f"{where}.tokens[{i}]"
        if isinstance(tok, str):
            tokens.append(TokenConfig(_as_str(tok, at)))
        else:
            tobj = _as_dict(tok, at)
            role = tobj.get("role", "write")
            if role not in TOKEN_ROLES:
                raise ConfigError(f"{at}.role: expected one of {list(TOKEN_ROLES)}")
            tokens.append(TokenConfig(_as_str(tobj.get("value"), f"{at}.value"), role))
    orgs = tuple(
        _as_str(o, f"{where}.orgs[{i}]")
        for i, o in enumerate(_as_list(obj.get("orgs", []), f"{where}.orgs"))
    )
    return UserConfig(
        name=_as_str(obj.get("name"), f"{where}.name"),
        tokens=tuple(tokens),
        orgs=orgs,
        fullname=_opt_str(obj, "fullname", where),
        email=_opt_str(obj, "email", where),
    )


def _org(raw: object, where: str) -> OrgConfig:
    obj = _as_dict(raw, where)
    unknown = sorted(set(obj) - {"name", "fullname"})
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}")
    return OrgConfig(
        name=_as_str(obj.get("name"), f"{where}.name"), fullname=_opt_str(obj, "fullname", where)
    )


def _quotas(raw: object) -> dict[str, dict[str, dict[str, int]]]:
    out: dict[str, dict[str, dict[str, int]]] = {}
    for namespace, vendors in _as_dict(raw, "quotas").items():
        out[namespace] = {}
        for vendor, types in _as_dict(vendors, f"quotas.{namespace}").items():
            out[namespace][vendor] = {}
            for instance_type, limit in _as_dict(types, f"quotas.{namespace}.{vendor}").items():
                if isinstance(limit, bool) or not isinstance(limit, int) or limit < 0:
                    raise ConfigError(
                        f"quotas.{namespace}.{vendor}.{instance_type}: expected an integer >= 0"
                    )
                out[namespace][vendor][instance_type] = limit
    return out


def _durations(raw: object, base: Durations) -> Durations:
    obj = _as_dict(raw, "durations")
    known = set(Durations.__dataclass_fields__)
    unknown = sorted(set(obj) - known)
    if unknown:
        raise ConfigError(f"durations: unknown key(s) {unknown}; expected some of {sorted(known)}")
    values: dict[str, float] = {}
    for key, value in obj.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ConfigError(f"durations.{key}: expected a number of seconds >= 0")
        values[key] = float(value)
    return replace(base, **values)
