"""``python -m qgactor.cli``: the same as the ``qgactor`` command."""

import sys

from qgactor.cli.main import main

sys.exit(main())
