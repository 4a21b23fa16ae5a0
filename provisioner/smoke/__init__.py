"""Smoke tests: does a live endpoint answer its spec's `smoke.request` as `smoke.expect` says?

`check` is pure (an answer against an expectation: status, key paths, JSON Schema); `runner`
sends the request through `provisioner.hub` (`EndpointsApi.post_to_endpoint`), treats 503 as a
cold start retried within the test's timeout, and returns one result per endpoint, its body cut
short and free of secrets. Nothing here prints, reads the environment or imports
`huggingface_hub`; clock and sleep are injected.
"""
