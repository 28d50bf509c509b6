"""Which third-party modules a serving worker has imported, told to the arbiter so that its
standbys can import them ahead (preload.py). Third-party means: the module's file lies in a
site-packages or dist-packages folder. A module of the project (the cwd) never is, unless it
lies in a virtualenv inside the project, which holds installed packages like any other."""

import os
import site
import sys
import sysconfig
import time

# The arbiter's control lines end at 1 MiB (runner/protocol/line-splitter.ts); a list this long
# (tens of thousands of names) is cut: the rest is imported by the app, as without a preload.
MAX_MESSAGE_CHARS = 512 * 1024
# The follow-up, for what the first requests import (Django's views, a lazily loaded driver).
FOLLOW_UP_DELAY = 2.0
DEBIAN_DIST_PACKAGES = "/usr/lib/python3/dist-packages"


def site_dirs():
    """Every folder installed packages live in, as given and with symlinks resolved."""
    dirs = []
    try:
        dirs.extend(site.getsitepackages())
    except AttributeError:  # an old virtualenv's site.py has no getsitepackages
        pass
    user_site = getattr(site, "ENABLE_USER_SITE", False) and site.getusersitepackages()
    if user_site:
        dirs.append(user_site)
    paths = sysconfig.get_paths()
    dirs.extend(paths[key] for key in ("purelib", "platlib") if key in paths)
    dirs.append(DEBIAN_DIST_PACKAGES)
    found = []
    for folder in dirs:
        for form in (os.path.abspath(folder), os.path.realpath(folder)):
            form = form.rstrip(os.sep) + os.sep
            if form not in found:
                found.append(form)
    return found


class ThirdParty:
    """Tells installed modules from the project's own and from the standard library."""

    def __init__(self, project_dir, runtime_modules=()):
        self.project = os.path.abspath(project_dir).rstrip(os.sep) + os.sep
        self.sites = site_dirs()
        self.runtime_modules = set(runtime_modules)

    def is_third_party(self, name, module):
        if name in self.runtime_modules:
            return False
        path = getattr(module, "__file__", None)
        if not isinstance(path, str) or not path:
            return False  # namespace packages, builtins: imported along with their children
        path = os.path.abspath(path)
        home = next((folder for folder in self.sites if path.startswith(folder)), None)
        if home is None:
            return False
        # A virtualenv inside the project is installed code; the project's own files are not.
        return not path.startswith(self.project) or home.startswith(self.project)

    def names(self):
        """The third-party modules in sys.modules, in import order (when each import started)."""
        return [name for name, module in list(sys.modules.items()) if self.is_third_party(name, module)]

    def is_project(self, module):
        """Whether a module is one of the project's own files."""
        return self.is_project_path(getattr(module, "__file__", None))

    def is_project_path(self, path):
        if not isinstance(path, str) or not path:
            return False
        path = os.path.abspath(path)
        return path.startswith(self.project) and not any(path.startswith(folder) for folder in self.sites)


def bounded(names, limit=MAX_MESSAGE_CHARS):
    """The first names that fit in one control line of about `limit` characters."""
    kept, size = [], 0
    for name in names:
        size += len(name) + 3  # the quotes and the comma
        if size > limit:
            break
        kept.append(name)
    return kept


class DependencyReport:
    """Sends `dependencies` once the worker is ready, and once more ~2 s later if the list grew.
    Ticked by the serving loop (as the heartbeat is): no thread of its own."""

    def __init__(self, send, third_party, enabled=True):
        self._send = send
        self._third_party = third_party
        self._enabled = enabled
        self._sent = None
        self._follow_up_at = None

    def disable(self):
        """Under gevent, nothing is reported: a standby must not import them unpatched."""
        self._enabled = False

    def ready(self):
        if not self._enabled or self._sent is not None:
            return
        self._report()
        self._follow_up_at = time.monotonic() + FOLLOW_UP_DELAY

    def tick(self):
        if self._follow_up_at is None or time.monotonic() < self._follow_up_at:
            return
        self._follow_up_at = None
        if self._enabled:
            self._report(only_if_grown=True)

    def _report(self, only_if_grown=False):
        names = bounded(self._third_party.names())
        if only_if_grown and not set(names) - set(self._sent or ()):
            return
        self._sent = names
        self._send({"type": "dependencies", "modules": names})
