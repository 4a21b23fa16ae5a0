"""The render layer: plans, statuses and diagnostics as text for people.

Rule: pure functions, `Plan -> str`. May import `apply`, `plan`, `hub` (value types) and `spec`,
never `cli`. No API calls, no clock, no environment reads, no printing: the CLI prints what a
renderer returns. Renderers own the words; the plan carries the facts.
"""
