"""provisioner.render."""
