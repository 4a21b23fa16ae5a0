"""provisioner.plan."""
