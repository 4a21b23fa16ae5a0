"""`python tests/state/moto_server.py -p 0`: moto's server, with atomic conditional writes
(see moto_atomic.py). Run by the contract suite's `moto_server` fixture as a separate process."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import moto_atomic
from moto.server import main

if __name__ == "__main__":
    moto_atomic.patch()
    main(sys.argv[1:])
