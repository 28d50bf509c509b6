"""A serving worker that imports a project module on first use (Django's URLconf and views, on
the first request) can read its file in the middle of a save: an in-place save truncates the file
and writes it again, and an import between the two finds an empty module, keeps it in
sys.modules, and every request reaching it fails until the worker is replaced. The arbiter's
watcher takes such a file as mid-save (runner/watch/change-batcher.ts) before it reloads; a
serving worker reads what nothing settled, so the import waits here for the save's second half.

Only after ready: what a boot imports is the save the arbiter batched, and a change during a boot
starts the next cycle anyway."""

import importlib.machinery
import os
import threading
import time

# An empty project module changed less than this long ago is taken as mid-save, and its import
# waits (at most this long) for the rest of the save. Longer than the watcher's own wait (20 ms):
# a request may wait where a reload should not, and an editor on a loaded machine writes late.
MID_SAVE_QUIET = 1.0
POLL = 0.01


def wait_until_whole(path, quiet=MID_SAVE_QUIET):
    """Returns once `path` has content, has been empty and unchanged for `quiet` seconds (an empty
    module, as saved), is gone, or `quiet` seconds passed. Whether it waited."""
    deadline = time.monotonic() + quiet
    waited = False
    while True:
        try:
            info = os.stat(path)
        except OSError:
            return waited  # gone: the import says so
        if info.st_size > 0 or time.time() - info.st_mtime >= quiet or time.monotonic() >= deadline:
            return waited
        waited = True
        time.sleep(POLL)  # gevent's, once patched: the other greenlets serve meanwhile


class MidSaveGuard:
    """First on sys.meta_path once the worker is ready: for a module of the project, waits until
    its source looks whole, then lets the usual finders find it (it finds nothing itself)."""

    def __init__(self, third_party):
        self._third_party = third_party
        self._finding = threading.local()  # a path hook that imports finds through here again

    def find_spec(self, name, path=None, target=None):
        if getattr(self._finding, "active", False):
            return None
        self._finding.active = True
        try:
            spec = importlib.machinery.PathFinder.find_spec(name, path)
        except (ImportError, ValueError):
            return None
        finally:
            self._finding.active = False
        origin = getattr(spec, "origin", None)
        if isinstance(origin, str) and origin.endswith(".py") and self._third_party.is_project_path(origin):
            wait_until_whole(origin)
        return None
