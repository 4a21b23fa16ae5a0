"""provisioner: infrastructure-as-code for Hugging Face Inference Endpoints.

Data flows one way: spec -> (live read) -> plan -> apply -> render. Each subpackage owns one step.
"""

__version__ = "0.1.0"
