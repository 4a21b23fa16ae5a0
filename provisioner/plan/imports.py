"""A live endpoint -> the minimal spec that describes it (what `provisioner import` writes).

Derived from the field table: every field the endpoint has a value for is written at its spec
path, so the spec does not depend on the `_defaults.yaml` it lands under. Left out is what the
service filled in by itself (a resolved commit revision, default image settings, the default
scaling metric, injected env), so the imported spec declares what a person chose and the next
plan only adopts it. So are the replica counts of a paused endpoint: pausing set them to 0, which
no spec may declare, and a paused spec does not compare them.

An imported spec always validates, and adopting it never rewrites the image: a variant
provisioner does not model becomes `engine: keep` (the image is left as it is). Where the live
value cannot be written as it is (an unknown `type`, min 0 without a timeout), the spec says what
the service accepts today, `import_notes` says so for the person importing, and the next plan
shows the change. An engine option whose live value the engine does not document
(`spec.model.ENGINE_OPTION_VALUES`) is left out instead, with a note: the endpoint keeps it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from provisioner.hub.models import Config, EndpointState, LiveEndpoint, is_commit
from provisioner.plan import ownership
from provisioner.plan.desired import ENGINES, METRICS_BACK, camel, own_env
from provisioner.spec.fields import FIELDS, Flag, set_path
from provisioner.spec.model import ENGINE_OPTIONS, EndpointType, Engine, option_values
from provisioner.spec.secrets import looks_secret, own_variable

# A legacy `protected` is read as `authenticated` already (`hub.normalise.LEGACY_TYPES`); a type
# provisioner does not know at all is written as the default, `authenticated`.
_TYPES = frozenset(t.value for t in EndpointType)

# The idle timeout the Hugging Face UI proposes (1 hour, reference section 10), written when an
# endpoint has min 0 and no timeout: a spec with min 0 must give one.
DEFAULT_SCALE_TO_ZERO_TIMEOUT = 60

Document = dict[str, Any]


def _engine(variant: str) -> Engine | None:
    for engine, image in ENGINES.items():
        if image.variant == variant:
            return engine
    return None


def _image(config: Config, document: Document) -> None:
    engine = _engine(config.image.variant)
    if engine is None:
        set_path(document, "model.engine", Engine.KEEP.value)
        return
    if engine is Engine.DEFAULT:
        return
    set_path(document, "model.engine", engine.value)
    defaults = ENGINES[engine]
    fields = config.image.fields
    image: dict[str, Any] = {}
    if fields.get("url"):
        image["url"] = fields["url"]
    if fields.get("port") not in (None, defaults.port):
        image["port"] = fields["port"]
    if fields.get("healthRoute") not in (None, defaults.health_route):
        image["health_route"] = fields["healthRoute"]
    if image:
        set_path(document, "model.image", image)
    options = {
        option: found
        for option, found in _live_options(engine, fields).items()
        if _listed(engine, option, found)
    }
    if options:
        set_path(document, "model.engine_options", options)


def _live_options(engine: Engine, fields: Mapping[str, Any]) -> dict[str, Any]:
    return {
        option: fields[camel(option)]
        for option in sorted(ENGINE_OPTIONS[engine])
        if fields.get(camel(option)) is not None
    }


def _listed(engine: Engine, option: str, found: Any) -> bool:
    """Whether a live option value is one validate accepts (any, where the engine documents no
    list): an unlisted one is left out, so the spec validates and the endpoint keeps it (an
    update carries undeclared image settings over)."""
    values = option_values(engine, option)
    return values is None or found in values


def _revision(config: Config, document: Document) -> None:
    # A commit is written as no revision (the default branch): the listing cannot tell a
    # pinned commit from the default branch's, and a pin written here would stop the endpoint
    # following the branch for good. If the two differ, the next plan shows it as a revision
    # update (`revision-moved`) before anything runs. A name the service reports is the
    # user's choice, and is kept.
    if config.revision and not is_commit(config.revision):
        set_path(document, "model.revision", config.revision)


def _moved(config: Config) -> list[str]:
    """Env keys whose name or value looks secret: imported as `model.secrets` references
    (named after the key), never as values written to a file in clear."""
    return sorted(key for key, value in own_env(config.env).items() if looks_secret(key, value))


def _env(config: Config, document: Document) -> None:
    moved = _moved(config)
    env = {key: value for key, value in own_env(config.env).items() if key not in moved}
    # Declared even when empty once a key moved, so the next plan takes it out of env.
    if env or moved:
        set_path(document, "model.env", dict(sorted(env.items())))


def _env_note(config: Config) -> str | None:
    left = sorted(set(config.env) - set(own_env(config.env)))
    if not left:
        return None
    return (
        f"model.env.{', '.join(left)} is left out of the spec (the service may set it; a spec "
        "cannot declare it); it stays as long as env is unchanged, and an env change removes it "
        "(the plan says so): keep a token in model.secrets"
    )


def _secrets(config: Config, document: Document) -> None:
    # The values cannot be read back; whoever applies must provide them under these names
    # (a key named like a pipeline credential, HF_TOKEN, from a variable of its own).
    keys = set(config.secret_keys or ()) | set(_moved(config))
    if keys:
        refs = {key: {"from_env": own_variable(key)} for key in sorted(keys)}
        set_path(document, "model.secrets", refs)


def _timeout(config: Config, document: Document) -> None:
    if config.min_replica == 0:
        timeout = config.scale_to_zero_timeout or DEFAULT_SCALE_TO_ZERO_TIMEOUT
        set_path(document, "scaling.scale_to_zero_timeout", timeout)


def _type(config: Config, document: Document) -> None:
    document["type"] = config.type if config.type in _TYPES else EndpointType.AUTHENTICATED.value


def _measure(config: Config, document: Document) -> None:
    # A metric without a threshold is the service's default, not a choice.
    if config.metric and config.threshold is not None:
        set_path(document, "scaling.metric", METRICS_BACK.get(config.metric, config.metric))
        set_path(document, "scaling.threshold", config.threshold)


def _private_link(config: Config, document: Document) -> None:
    link = config.private_link
    if link is not None:
        document["private_link"] = {"account_id": link.account_id, "region": link.region}


def _tags(config: Config, document: Document) -> None:
    tags = ownership.user_tags(config.tags)
    if tags:
        document["tags"] = list(tags)


def _nothing(config: Config, document: Document) -> None:
    """Written by another row (threshold with metric), or not imported: protection is a
    decision the person importing makes."""


# Rows imported by hand: spec path -> writer.
_IMPORT: Mapping[str, Callable[[Config, Document], None]] = {
    "model.revision": _revision,
    "model.image": _image,
    "model.env": _env,
    "model.secrets": _secrets,
    "scaling.scale_to_zero_timeout": _timeout,
    "scaling.metric": _measure,
    "scaling.threshold": _nothing,
    "type": _type,
    "private_link": _private_link,
    "tags": _tags,
    "protect": _nothing,
}


def _image_note(config: Config) -> str | None:
    variant = config.image.variant
    engine = _engine(variant)
    if engine is not None:
        unlisted = [
            f"{option} {found!r}"
            for option, found in _live_options(engine, config.image.fields).items()
            if not _listed(engine, option, found)
        ]
        if not unlisted:
            return None
        are, them = ("is not a value", "it") if len(unlisted) == 1 else ("are not values", "them")
        return (
            f"its model.engine_options {', '.join(unlisted)} {are} {engine.value} documents "
            f"(validate would refuse {them}): the spec leaves {them} out, and the endpoint "
            f"keeps {them} while the spec declares none"
        )
    return (
        f"it runs image variant {variant!r}, which provisioner does not model: the spec says "
        "`engine: keep`, so provisioner leaves its image as it is (and cannot re-create it)"
    )


def _type_note(config: Config) -> str | None:
    if config.type in _TYPES:
        return None
    return (
        f"its unknown type {config.type!r} is written as "
        f"{EndpointType.AUTHENTICATED.value!r}, which the API accepts today, and the next plan "
        "shows the type change"
    )


def _timeout_note(config: Config) -> str | None:
    if config.min_replica != 0 or config.scale_to_zero_timeout:
        return None
    return (
        "it has min_replicas 0 and no scale-to-zero timeout, which a spec must give: it is "
        f"written as {DEFAULT_SCALE_TO_ZERO_TIMEOUT} minutes (the Hugging Face UI's default) and "
        "the next plan shows that change (choose another timeout first if you like)"
    )


# What a person importing must know about a row whose live value the spec cannot say as it is.
_NOTES: Mapping[str, Callable[[Config], str | None]] = {
    "model.image": _image_note,
    "model.env": _env_note,
    "scaling.scale_to_zero_timeout": _timeout_note,
    "type": _type_note,
}


def import_notes(live: LiveEndpoint) -> list[str]:
    """Where the spec `spec_document` writes for `live` is not exactly the live endpoint, in
    table order."""
    notes = (_NOTES[row.spec](live.config) for row in FIELDS if row.spec in _NOTES)
    return [note for note in notes if note is not None]


def import_warnings(live: LiveEndpoint) -> list[str]:
    """What the person importing must do before the next apply: set the variable each secret
    moved out of env is read from. Names only, never a value."""
    return [
        f"model.env.{key} looks like a secret: it is written as model.secrets.{key} "
        f"(from_env: {own_variable(key)}); set {own_variable(key)} where apply runs: the "
        "next plan moves it from env to secrets (its value is never shown)"
        for key in _moved(live.config)
    ]


def spec_document(live: LiveEndpoint, *, default_namespace: str | None) -> dict[str, Any]:
    """Spec-shaped data (snake_case keys, valid against the schema) for `live`."""
    document: Document = {"name": live.name}
    if live.namespace != default_namespace:
        document["namespace"] = live.namespace
    # A paused endpoint's 0/0 says nothing of the counts it ran with (the schema's defaults
    # apply when the spec is resumed). One whose counts survived the pause keeps them.
    zeroed = live.state is EndpointState.PAUSED and live.config.max_replica == 0
    for row in FIELDS:
        if zeroed and Flag.REPLICAS in row.flags:
            continue
        writer = _IMPORT.get(row.spec)
        value = getattr(live.config, row.attr)
        if writer is not None:
            writer(live.config, document)
        elif value is not None:
            set_path(document, row.spec, list(value) if isinstance(value, tuple) else value)
    if live.state is EndpointState.PAUSED:
        document["state"] = "paused"
    document["adopt"] = True
    return document
