"""The CLI layer: one click command per module, over the library.

Each command parses its options, builds the `Context` (API client factory, clock, sleep,
environment: injected, never module globals), confirms when it will change something, calls
the library, picks a renderer and maps the outcome to an exit code.

Rule: the top layer; it may import everything, and it is the only layer that may use the
emulator. It holds no planning or apply logic of its own, and it lazy-imports heavy dependencies
(`huggingface_hub`, the emulator) so `provisioner validate` starts fast.
"""
