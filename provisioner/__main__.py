"""`python -m provisioner` runs the command-line interface."""

from provisioner.cli.main import main

if __name__ == "__main__":
    main()
