"""``python -m thermal`` is the ``thermesh`` command."""
import sys

from thermal.cli import main

sys.exit(main())
