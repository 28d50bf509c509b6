"""Times a Python worker's boot for the generation's boot profile, in the shape of control.ts's
`ready.profile`: the third-party modules' import time (site-packages, dist-packages and the
standard library), the app's own modules, and the server's start until it serves.

An import is timed where code that is not third-party (the app, or this runtime importing its
server) imports a module; it counts as third-party time when the module it loaded lives outside
the project or in a site-packages folder. What a third-party module imports in turn is inside
that time already, so it is not timed again."""

import builtins
import math
import os
import sys
import sysconfig
import time
from contextlib import contextmanager

RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))
INSTALLED = ("site-packages", "dist-packages")
STDLIB = os.path.abspath(sysconfig.get_paths()["stdlib"]) + os.sep


def _installed(path):
    return any(part in path for part in INSTALLED)


def _third_party(path):
    """Whether the file `path` is someone else's code: installed, the standard library, or
    anywhere outside the project and this runtime."""
    if not path:
        return True  # built into the interpreter
    path = os.path.abspath(path)
    if path.startswith(RUNTIME_DIR + os.sep):
        return False
    return _installed(path) or path.startswith(STDLIB) or not path.startswith(os.getcwd() + os.sep)


def installed_modules():
    """How many modules from site-packages or dist-packages are imported."""
    return sum(1 for module in list(sys.modules.values()) if _installed(getattr(module, "__file__", None) or ""))


def _ms(seconds):
    """A part, rounded down; the whole is rounded up: the parts never add up to more."""
    return math.floor(seconds * 10000) / 10


def _ms_up(seconds):
    return math.ceil(seconds * 10000) / 10


class BootTiming:
    def __init__(self):
        self.started = time.perf_counter()
        self.load_started = None
        self.loaded = None
        self.deps = 0.0
        self.deps_at_load_start = 0.0
        self.deps_at_load = 0.0
        self.preloaded = installed_modules()  # the runtime imports gunicorn before the boot
        self._timing = True
        self._original = builtins.__import__
        builtins.__import__ = self._import

    def _import(self, name, globals=None, locals=None, fromlist=(), level=0):
        caller = (globals or {}).get("__file__")
        if not self._timing or level or (caller and _third_party(caller)) or name in sys.modules:
            return self._original(name, globals, locals, fromlist, level)
        started = time.perf_counter()
        try:
            return self._original(name, globals, locals, fromlist, level)
        finally:
            module = sys.modules.get(name.partition(".")[0])
            if module is None or _third_party(getattr(module, "__file__", None)):
                self.deps += time.perf_counter() - started

    @contextmanager
    def loading(self):
        """Around the app's import; only the first one is the boot's."""
        first = self.load_started is None
        if first:
            self.load_started = time.perf_counter()
            self.deps_at_load_start = self.deps
        try:
            yield
        finally:
            if first:
                self.loaded = time.perf_counter()
                self.deps_at_load = self.deps

    def profile(self):
        """The boot's profile, once the worker is ready; from then on nothing is timed."""
        self._timing = False
        if builtins.__import__ == self._import:
            builtins.__import__ = self._original
        ready = time.perf_counter()
        load_started = self.load_started or ready
        loaded = self.loaded or ready
        deps_in_load = self.deps_at_load - self.deps_at_load_start
        cold = installed_modules() - self.preloaded
        if self.preloaded:
            deps = {"warm": True, "modules": self.preloaded, "ms": _ms(self.deps)}
        else:
            deps = {"warm": False, "modules": cold, "ms": _ms(self.deps)}
        return {
            "bootMs": _ms_up(ready - self.started),
            "deps": deps,
            "codeMs": _ms(max(0.0, loaded - load_started - deps_in_load)),
            "listenMs": _ms(max(0.0, ready - loaded - (self.deps - self.deps_at_load))),
        }
