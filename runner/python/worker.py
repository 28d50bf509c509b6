"""Arbiter's Python worker: `python3 -u worker.py module:callable`, started by the arbiter with
its control channel on fd 3 and the listening sockets on fds 4, 5, ... and the project as cwd."""

import os
import sys

if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if p not in ("", here, os.getcwd())]
    # Ours first, imported before the project is on the path: a project module named `arbiter`
    # (or `arbiter_worker`) must not replace the runtime.
    sys.path.insert(0, here)
    import arbiter  # noqa: F401
    import arbiter_worker

    # Then the project first, so its modules are imported as gunicorn would import them.
    sys.path.insert(0, os.getcwd())
    sys.exit(arbiter_worker.main())
