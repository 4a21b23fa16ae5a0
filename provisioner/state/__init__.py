"""provisioner.state."""
