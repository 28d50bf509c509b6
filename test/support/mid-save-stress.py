"""Imports a project module over and over, through the Python worker runtime's MidSaveGuard, while
another process saves it in place as an editor does (truncate, a pause, write) every few
milliseconds; so that the save's truncation falls between any two steps of an import, sooner or
later. Usage: python3 mid-save-stress.py PROJECT_DIR SECONDS. Prints one JSON line: how many
imports ran, and how many found the module empty (with no `index`)."""

import importlib
import json
import multiprocessing
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "runner", "python"))

from arbiter_worker.dependencies import ThirdParty  # noqa: E402
from arbiter_worker.mid_save import MidSaveGuard  # noqa: E402


def save_in_place(path, stop):
    version = 0
    while not stop.is_set():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        time.sleep(0.002)
        os.write(fd, ("def index():\n    return %d\n" % version).encode())
        os.close(fd)
        version += 1
        time.sleep(0.003)


def main():
    project, seconds = sys.argv[1], float(sys.argv[2])
    source = os.path.join(project, "views.py")
    with open(source, "w") as out:
        out.write("def index():\n    return 0\n")
    sys.path.insert(0, project)
    sys.meta_path.insert(0, MidSaveGuard(ThirdParty(project)))
    stop = multiprocessing.Event()
    writer = multiprocessing.Process(target=save_in_place, args=(source, stop), daemon=True)
    writer.start()
    imports = empty = 0
    try:
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            sys.modules.pop("views", None)
            importlib.invalidate_caches()
            imports += 1
            if not hasattr(importlib.import_module("views"), "index"):
                empty += 1
    finally:
        stop.set()
        writer.join()
    print(json.dumps({"imports": imports, "empty": empty}))


if __name__ == "__main__":
    main()
