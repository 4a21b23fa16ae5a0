"""`plan --json`: the plan document as `plan --out` saves it, for people and pipelines to read,
with env values that look secret shown as `(sensitive)`, as the text plan shows them.

A saved plan (`plan --out`) keeps those values: apply sends exactly what it holds. Pure.
"""

from __future__ import annotations

import json
from typing import Any

from provisioner.plan.diff import SENSITIVE
from provisioner.plan.document import plan_to_json
from provisioner.plan.model import Plan
from provisioner.spec.secrets import looks_secret


def _masked(env: dict[str, Any]) -> dict[str, Any]:
    return {key: SENSITIVE if looks_secret(key, value) else value for key, value in env.items()}


def render_json(plan: Plan) -> str:
    document = plan_to_json(plan)
    for change in document["changes"]:
        desired = change.get("desired")
        if desired is not None and desired.get("env"):
            desired["env"] = _masked(desired["env"])
    return json.dumps(document, indent=2) + "\n"
