"""provisioner.apply: the plan-a-stack and apply-a-plan workflows (`workflow`), the executor, the
stale-plan and secrets guard, the waiter and the results.

Library code: it raises `ProvisionerError` with diagnostics and never prints, reads the
environment or a terminal; the CLI passes every collaborator in.
"""
