"""The state layer: where a stack keeps what it shares between runs and people, and its lock.

`backend` is the protocol (a small object store per stack, with conditional writes and a lock);
`local` and `s3` implement it; `open` picks one from the `backend:` setting. The state document,
its history and lock waiting are built once over the protocol (`store`).

Ownership still lives in tags on each endpoint (see `plan.ownership` and docs/design.md): the
state holds what tags cannot (secret fingerprints, apply history), so a lost or shared state
folder can never lose track of what a stack owns.

Rule: may import `provisioner.spec` only, and never talks to the Inference Endpoints API; only
`state.s3` imports boto3, and lazily (it is an optional dependency).
"""
