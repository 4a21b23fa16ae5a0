"""provisioner.hub."""
