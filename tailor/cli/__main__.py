"""`python -m tailor.cli` (what the Makefile's `tailor` shim runs)."""

import sys

from tailor.cli import main

sys.exit(main())
