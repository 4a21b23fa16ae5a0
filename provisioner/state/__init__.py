"""The state layer: reserved for state backends (a local file, S3) and their locks; empty today.

Nothing provisioner does needs a state file: ownership, protection and the last-applied digest
live in tags on each endpoint (see `plan.ownership` and docs/design.md), so a lost or shared
state file can never lose track of what a stack owns.

Rule: may import `provisioner.spec` only, and never talks to the Inference Endpoints API.
"""
