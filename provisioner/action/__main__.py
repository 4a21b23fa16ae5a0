"""`python -m provisioner.action`: the step `action.yml` runs."""

from provisioner.action.main import main

if __name__ == "__main__":
    raise SystemExit(main())
