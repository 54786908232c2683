"""The scheduled-reminder example actor (`/remind 10 drink water`), which `qgactor run` starts
from this repository's qgactor.toml.

Its source is `qgactor/cli/examples/reminder.py` in the package, because `qgactor init` copies
that file into the actors/ folder of every new project; this module makes the same actor
available to the repository's own project without a second copy of the code.
"""

from qgactor.cli.examples.reminder import Remind, Reminder

__all__ = ["Remind", "Reminder"]
