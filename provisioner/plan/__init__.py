"""The plan layer: desired specs + the live fleet -> a `Plan`, as data.

Owns the plan model (actions, reasons, field changes, what the plan saw), the field table that
decides update-in-place vs replace, ownership/protection/last-applied tags, the planner and the
versioned JSON plan document.

Rule: pure. May import `provisioner.hub` (its value types, never a call) and `provisioner.spec`.
No I/O, no clock, no environment, no API calls: the live fleet is read before `build_plan` and
the plan is executed after it, by `provisioner.apply`. Output is sorted, so it is deterministic.
"""
