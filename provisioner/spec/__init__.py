"""provisioner.spec."""
