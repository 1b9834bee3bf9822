"""`python -m asi_me COMMAND`: demo, ingest, validate, scale, bench, dictionary."""

from __future__ import annotations

import sys

from asi_me.cli import main

if __name__ == "__main__":
    sys.exit(main())
