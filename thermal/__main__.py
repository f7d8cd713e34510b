"""``python -m thermal`` is the ``thermesh`` command."""
import sys

from thermal.app.cli import main

sys.exit(main())
