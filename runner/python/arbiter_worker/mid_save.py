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


def wait_until_whole(path, deadline):
    """Waits while `path` is empty and changed less than MID_SAVE_QUIET ago, until `deadline`
    (time.monotonic()). Whether it has content now: if not, it is gone, an empty module as saved,
    or still empty at the deadline."""
    while True:
        try:
            info = os.stat(path)
        except OSError:
            return False  # gone: the import says so
        if info.st_size > 0:
            return True
        if time.time() - info.st_mtime >= MID_SAVE_QUIET or time.monotonic() >= deadline:
            return False
        time.sleep(POLL)  # gevent's, once patched: the other greenlets serve meanwhile


class _WholeSourceLoader(importlib.machinery.SourceFileLoader):
    """Python's own loader for a project module, with each look at its source waiting until the
    source looks whole: the save may begin between any two of them (the stat that decides whether
    the cached bytecode is current, and the read)."""

    def path_stats(self, path):
        wait_until_whole(path, time.monotonic() + MID_SAVE_QUIET)
        return super().path_stats(path)

    warn = None  # set by MidSaveGuard: says that a module was imported empty in the middle of a save

    def get_data(self, path):
        data = super().get_data(path)
        # Read empty: truncated since its stat, maybe, or by the next save (a formatter's rewrite
        # right after the editor's): read again once it has content, within the bound.
        deadline = time.monotonic() + MID_SAVE_QUIET
        while not data and path.endswith(".py") and time.monotonic() < deadline and wait_until_whole(path, deadline):
            data = super().get_data(path)
        if not data and path.endswith(".py") and self.warn is not None and _changed_within(path, 2 * MID_SAVE_QUIET):
            # Imported empty while it was being saved: everything that uses it fails until the
            # next generation. Said, so that the failures that follow have a cause in the log.
            self.warn(f"{path} was imported empty: it was being saved and still empty after {MID_SAVE_QUIET:g} s")
        return data


def _changed_within(path, seconds):
    try:
        return time.time() - os.stat(path).st_mtime < seconds
    except OSError:
        return False


class MidSaveGuard:
    """First on sys.meta_path once the worker is ready: a module of the project's own source is
    found as PathFinder finds it, and loaded by _WholeSourceLoader. Everything else is left to
    the usual finders."""

    def __init__(self, third_party, warn=None):
        self._third_party = third_party
        self._warn = warn
        self._finding = threading.local()  # a path hook that imports finds through here again

    def find_spec(self, name, path=None, target=None):
        if getattr(self._finding, "active", False):
            return None
        self._finding.active = True
        try:
            spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        except (ImportError, ValueError):
            return None
        finally:
            self._finding.active = False
        loader = getattr(spec, "loader", None)
        if type(loader) is not importlib.machinery.SourceFileLoader:
            return None  # not found, or not plain source (an extension, a zip, a loader of its own)
        if not self._third_party.is_project_path(spec.origin):
            return None
        spec.loader = _WholeSourceLoader(loader.name, loader.path)
        spec.loader.warn = self._warn
        return spec
