"""The spec layer: what the user declared, read from YAML files and checked.

Owns loading spec files with line/col marks, the JSON Schema, cross-field rules, the frozen spec
values (`EndpointSpec`), YAML emit, diagnostics and the one definition of "looks secret".

Rule: the bottom layer. Imports nothing from the rest of provisioner. It reads files and nothing
else: it knows nothing of the Inference Endpoints API, never makes a network call, and reports
bad input as diagnostics (with file:line:col), never as an exception a user would see.
"""
