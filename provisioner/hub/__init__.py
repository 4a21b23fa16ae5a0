"""The hub layer: everything that talks to the Inference Endpoints API.

Owns the `EndpointsApi` interface, the live read, normalisation of what the service returns
(server-filled fields stripped), the project's own error tree and the one retry policy.

Rule: may import `provisioner.spec` only. Exactly one module, `provisioner.hub.client`, imports
`huggingface_hub` (and `httpx2`); every other module, in this package too, goes through the
`EndpointsApi` interface, so the client library can be swapped or faked in one place
(import-linter enforces it). It never decides what to change: that is `provisioner.plan`.
"""
