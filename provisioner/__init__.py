"""provisioner: infrastructure-as-code for Hugging Face Inference Endpoints.

Data flows one way: spec -> (live read) -> plan -> apply -> render. Each subpackage owns one step.
"""

# The one place the version is written: pyproject.toml reads it (setuptools' `attr:`), and so
# do `provisioner --version`, saved plans, the state's history and the GitHub Action's default.
__version__ = "0.2.0"

# The name to `pip install`: not "provisioner", which on the public index is an unrelated
# package from 2016. The command and the import package keep the short name.
DISTRIBUTION = "hf-endpoints-provisioner"

# Where the tool, its GitHub Action (action.yml) and its pre-commit hooks are published.
REPOSITORY = "hf-provisioner/provisioner"
