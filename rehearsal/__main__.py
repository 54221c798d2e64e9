"""`python -m rehearsal ENV`: see rehearsal/scenario.py (and `make rehearse ENV=dev`)."""

import sys

from rehearsal.scenario import main

sys.exit(main())
