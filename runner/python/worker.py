"""Arbiter's Python worker: `python3 -u worker.py module:callable`, started by the arbiter with
its control channel on fd 3 and the listening sockets on fds 4, 5, ... and the project as cwd."""

import os
import sys

if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if p not in ("", here, os.getcwd())]
    # The project first (its modules are imported as gunicorn would), then this runtime.
    sys.path[0:0] = [os.getcwd(), here]
    import arbiter  # noqa: F401  (ours, before the project could shadow it)
    import arbiter_worker

    sys.exit(arbiter_worker.main())
