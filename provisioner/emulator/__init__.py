"""provisioner.emulator."""
