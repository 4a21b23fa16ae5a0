"""provisioner.apply."""
