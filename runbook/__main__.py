"""``python -m runbook``: the same as the ``runbook`` command."""

import sys

from .cli import main

sys.exit(main())
