"""The apply layer: plan a stack and carry out a plan against the API.

Owns the plan-a-stack and apply-a-plan workflows (`workflow`), the stale-plan and ownership
guard (refuse a plan whose endpoints changed since), resolving secret values from the
environment, the executor (step order, bounded parallelism, read-back) and the waiter
(readiness), and the results they report.

Rule: may import `plan`, `hub` and `spec`, never `render` or `cli`. It never decides what to
change (only the plan does) and never prints, reads the environment or a terminal: progress goes
to an injected `Reporter`, failures are raised as `ProvisionerError` with diagnostics, and clock
and sleep are injected, so no test waits on real time.
"""
