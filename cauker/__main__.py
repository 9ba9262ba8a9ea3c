"""``python -m cauker`` runs the command line."""

import sys

from cauker.cli import main

if __name__ == "__main__":
    sys.exit(main())
