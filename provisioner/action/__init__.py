"""The GitHub Action's script (`action.yml` runs `python -m provisioner.action`).

It owns what happens around the CLI in a workflow: reading the action's inputs, running
`provisioner validate / plan / apply` as a subprocess (the console script beside this Python),
the job summary, step outputs, the sticky pull-request comment and the drift issue (GitHub's REST
API through urllib).

It must not import anything else from `provisioner` (an import-linter contract): the CLI is its
only interface to the tool, exactly as for a person at a terminal, so the Action cannot depend on
internals the CLI does not promise. Only the standard library; no secret value or token is ever
printed (each value of the `secrets` input is masked before anything else happens).
"""
