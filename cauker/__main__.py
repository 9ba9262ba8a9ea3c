"""``python -m cauker`` runs the command line."""

import sys

from cauker.cli import main

sys.exit(main())
