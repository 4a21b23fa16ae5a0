"""The benchmark harness (`make bench`): provisioner against a per-endpoint reader, over the
emulator with injected latency, as whole processes. See README.md "Performance"."""
