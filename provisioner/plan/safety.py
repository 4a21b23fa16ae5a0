"""Safety nets over a finished plan. Pure: a plan in, the same plan with diagnostics added.

- The mass-deletion guard: a plan that would delete all of a stack's endpoints, or more than a
  share of them, is refused unless the person says that is what they mean. An empty or
  half-read spec directory (a checkout gone wrong, specs moved, a folder renamed) looks exactly
  like a set of removed specs; this is the net under every such mistake.
- Namespaces that could not be listed: the plan says which, since this stack's endpoints there
  (an orphan to delete, say) are missing from it.
- Secret values the plan could not compare with the state (never recorded, or their variable
  not set where the plan runs): the plan says which, since a changed value would go unseen;
  and a secret a change sends whose variable neither is set here nor is among those the apply
  side recorded it has: apply would refuse that change, so the plan says so at its spec line.
- Specs that could not be read (`status` and `destroy` still run then): an endpoint no spec
  that loads names may be declared by a broken one, with `protect: true` the tags do not show
  yet, so it is kept, never deleted (`hold_unreadable`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import replace

from provisioner.plan.model import Action, Plan, Reason, ReasonCode, SecretsSeen
from provisioner.spec.diagnostics import Diagnostic, Mark, Severity

FLAG = "--allow-mass-delete"
_SHOWN = 5


def _listed(addresses: list[str]) -> str:
    more = len(addresses) - _SHOWN
    return ", ".join(addresses[:_SHOWN]) + (f" and {more} more" if more > 0 else "")


def warn_unseen_secrets(
    plan: Plan,
    seen: SecretsSeen,
    *,
    where: Mark,
    command_options: str = "",
    marks: Mapping[tuple[str, str], Mark] | None = None,
    require: bool = False,
) -> Plan:
    """`plan`, with a warning at `where` naming the endpoints whose secret values it could not
    compare with the state's fingerprints, unless this plan sends their secrets anyway; and,
    at each secret's line in its spec (`marks`: (address, secret name) -> mark), what apply
    would refuse for a variable not set here (`_refused_secrets`; an error when `require`)."""
    kept = [c for c in plan.changes if c.seen.exists and c.secrets is None and not c.refused]
    kept = [c for c in kept if c.action is not Action.DELETE]
    declared = [c for c in kept if c.address in seen.current]
    unrecorded = [c.address for c in declared if seen.recorded.get(c.address) is None]
    unset = [
        c.address
        for c in declared
        if set(seen.unset.get(c.address, ())) & set(seen.recorded.get(c.address) or ())
    ]
    warnings = []
    if seen.key_missing:
        warnings.append(
            "the state holds fingerprints of secret values, but the key they were made with "
            "(fingerprint.key, beside the state) is missing, so a changed secret cannot be seen; "
            f"`provisioner apply --resend-secrets{_options(command_options)}` sends them once "
            "and records them under a new key"
        )
    if unrecorded:
        warnings.append(
            f"the values of the secrets of {_listed(unrecorded)} were not recorded by an apply "
            "since this stack's state began, so a change of them cannot be seen; "
            f"`provisioner apply --resend-secrets{_options(command_options)}` sends them once "
            "and records their fingerprints"
        )
    if unset:
        warnings.append(
            f"the variables holding the secrets of {_listed(unset)} are not set here, so this "
            "plan cannot tell whether their values changed since the last apply (apply, where "
            "they are set, compares them and sends a changed one)"
        )
    diagnostics = [Diagnostic(where, text, Severity.WARNING) for text in warnings]
    diagnostics.extend(
        _refused_secrets(plan, seen, where=where, marks=marks or {}, require=require)
    )
    return replace(plan, diagnostics=tuple(sorted((*plan.diagnostics, *diagnostics))))


def _refused_secrets(
    plan: Plan,
    seen: SecretsSeen,
    *,
    where: Mark,
    marks: Mapping[tuple[str, str], Mark],
    require: bool,
) -> list[Diagnostic]:
    """For each secret a change sends (a create, a replacement, an update of secrets) whose
    variable is not set here: if the apply side recorded that it has the variable (the state's
    `secret_variables`), apply will send it, and the plan says so; otherwise apply refuses
    that change (`apply.workflow`; the rest goes ahead), and the plan says so at the spec's
    `secrets:` entry: a warning, or, with `require` (a CI plan, whose check must fail while the
    apply on merge would refuse), an error."""
    found = []
    for change in plan.actionable:
        if change.secrets is None:
            continue
        unset = set(seen.unset.get(change.address, ()))
        for name, variable in sorted(change.secrets.items()):
            if name not in unset:
                continue
            mark = marks.get((change.address, name), where)
            if seen.available is not None and variable in seen.available:
                found.append(
                    Diagnostic(
                        mark,
                        f"{change.address}: secret {name} ({variable}) is not set here; the apply "
                        "side has it (recorded in the state), so apply sends it",
                        Severity.WARNING,
                    )
                )
                continue
            recorded = (
                "; the apply side's recorded secrets do not include it"
                if seen.available is not None
                else ""
            )
            found.append(
                Diagnostic(
                    mark,
                    f"{change.address}: apply will refuse this {change.action.value} until "
                    f"{variable} is set (it sends secret {name}, read from the environment)"
                    f"{recorded}. Add {variable} to the secrets the apply side has (the "
                    "repository secret PROVISIONER_SECRETS), then record their names with "
                    "`provisioner state record-secrets` on the apply side",
                    Severity.ERROR if require else Severity.WARNING,
                )
            )
    return found


def _options(command_options: str) -> str:
    return f" {command_options}" if command_options else ""


def guard_mass_deletion(
    plan: Plan,
    *,
    where: Mark,
    max_percent: int,
    allowed: bool,
    whole: Plan | None = None,
    command_options: str = "",
) -> Plan:
    """`plan`, with an error at `where` (the stack's settings file or directory) when it
    deletes every endpoint the stack manages, or more than `max_percent` of them. `whole` is
    the plan before `--target` narrowed it: the share is of the whole stack, so targeting the
    one endpoint whose spec was removed is not "all of them"."""
    if plan.destroy or allowed:
        return plan
    managed = [c for c in (whole or plan).changes if c.seen.exists]
    deleted = [c.address for c in plan.changes if c.action is Action.DELETE]
    everything = len(deleted) == len(managed)
    if not deleted or (not everything and len(deleted) * 100 <= len(managed) * max_percent):
        return plan
    names = _listed(deleted)
    share = "all" if everything else f"more than {max_percent}%"
    message = (
        f"this plan deletes {len(deleted)} of the {len(managed)} endpoints stack {plan.stack!r} "
        f"manages ({share}: {names}); a spec directory with specs missing, unreadable or moved "
        f"looks like removed specs. If these deletions are intended, run again with {FLAG} "
        f"(the limit is max_delete_percent in _settings.yaml; "
        f"`provisioner destroy{_options(command_options)}` deletes a "
        "whole stack)"
    )
    diagnostics = tuple(sorted((*plan.diagnostics, Diagnostic(where, message))))
    return replace(plan, diagnostics=diagnostics)


def warn_unlisted(plan: Plan, unlisted: Mapping[str, str], *, where: Mark) -> Plan:
    """`plan`, with a warning at `where` for every namespace that could not be listed."""
    warnings = [
        Diagnostic(
            where,
            f"namespace {namespace} could not be listed ({why}): endpoints stack {plan.stack!r} "
            "may manage there are not in this plan (none is changed or deleted)",
            Severity.WARNING,
        )
        for namespace, why in sorted(unlisted.items())
    ]
    if not warnings:
        return plan
    return replace(plan, diagnostics=tuple(sorted((*plan.diagnostics, *warnings))))


def hold_unreadable(plan: Plan, *, named: Collection[str], broken: Collection[str]) -> Plan:
    """`plan`, made while the spec files `broken` could not be read, with every deletion of an
    endpoint that no spec read without error names (`named`: addresses) turned into a refusal:
    its spec may be one of the broken ones, and say `protect: true` (not yet on its tags).

    The rule is deliberately blunt: which endpoint a broken file declares cannot be known, so
    only an endpoint whose spec loaded (and is not protected) can be deleted while any spec is
    broken. Nothing at all when no file is broken."""
    if not broken:
        return plan
    why = Reason(ReasonCode.SPEC_UNREADABLE_KEPT)
    changes = tuple(
        replace(c, action=Action.NOOP, steps=(), reasons=(*c.reasons, why), refused=True)
        if c.action is Action.DELETE and c.address not in named
        else c
        for c in plan.changes
    )
    return replace(plan, changes=changes)
