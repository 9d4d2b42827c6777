"""``python -m planner`` and the ``planner`` console script.

The command modules import Pyomo, SciPy and pandas: seconds in which Ctrl-C would
otherwise end in a traceback. Here nothing is imported before the guard.
"""

import os
import sys


def main() -> None:
    try:
        from planner.cli import main as run
    except KeyboardInterrupt:
        sys.stderr.write("interrupted; no output was changed\n")
        sys.stderr.flush()
        os._exit(130)
    run()


if __name__ == "__main__":
    main()
