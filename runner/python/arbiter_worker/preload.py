"""A standby's preload: before its boot message, it imports the third-party modules the serving
generation had (dependencies.py), so that a new generation pays only for the project's own code
and the framework's start. Like gunicorn's --preload, but every generation is a new process, so
a preload can never serve stale project code: the project's modules are never imported here.

The app must see what a cold start would have shown it. An import that fails, needs the app's
settings (parts of Django), pulls in a module of the project, or changes process-wide state that
the app's own start may set first, and that the first to set wins or the last (the root logger,
signal handlers, warnings filters), is undone: every module it added leaves sys.modules (and its
parent package), the state is put back, and the app imports it later, as it would have. The
standard streams are not such state: a module that wraps them at import (Django 3.2's colorama)
wraps them for the app, cold or preloaded, before any of the app's code runs."""

import importlib
import importlib.machinery
import logging
import signal
import sys
import time
import warnings

# Raised by Django (and similar) when a module is imported before the app configured it: the
# module is not broken, it only needs the app's start; it is skipped, not failed.
NEEDS_SETTINGS = ("AppRegistryNotReady", "ImproperlyConfigured")
# Modules patched by gevent must not be imported before its patching, which only the boot
# (its worker class) decides; a serving gevent worker reports nothing, and this is the guard.
GEVENT = "gevent"
_SIGNALS = sorted(signal.valid_signals() - {signal.SIGKILL, signal.SIGSTOP}) if hasattr(signal, "valid_signals") else []


class Skipped(Exception):
    """The import was undone on purpose: the app imports the module itself, later."""


def _signal_handlers():
    handlers = {}
    for signum in _SIGNALS:
        try:
            handlers[signum] = signal.getsignal(signum)
        except (OSError, ValueError):
            continue
    return handlers


class ProcessState:
    """What an import could change that the app's own start would otherwise set first."""

    def __init__(self):
        root = logging.getLogger()
        self.root_handlers = list(root.handlers)
        self.root_level = root.level
        self.signals = _signal_handlers()
        self.warning_filters = list(warnings.filters)

    def changes(self, other):
        """The names of what differs between two snapshots."""
        changed = []
        if self.root_handlers != other.root_handlers or self.root_level != other.root_level:
            changed.append("the root logger")
        if self.signals != other.signals:
            changed.append("signal handlers")
        if self.warning_filters != other.warning_filters:
            changed.append("warnings filters")
        return changed

    def restore(self):
        root = logging.getLogger()
        root.handlers[:] = self.root_handlers
        root.setLevel(self.root_level)
        for signum, handler in self.signals.items():
            if handler is not None and signal.getsignal(signum) is not handler:
                try:
                    signal.signal(signum, handler)
                except (OSError, ValueError):
                    pass
        warnings.filters[:] = self.warning_filters
        mutated = getattr(warnings, "_filters_mutated", None)  # drops the modules' cached lookups
        if mutated is not None:
            mutated()


def undo_imports(before):
    """Takes every module that is not in `before` out of sys.modules and off its parent package,
    so that the app's own import runs it afresh rather than finding it half-made."""
    for name in [name for name in sys.modules if name not in before]:
        sys.modules.pop(name, None)
        parent, _, child = name.rpartition(".")
        if parent and parent in sys.modules and getattr(sys.modules[parent], child, None) is not None:
            try:
                delattr(sys.modules[parent], child)
            except (AttributeError, TypeError):
                pass


class LeftOut:
    """A finder first on sys.meta_path that refuses what a preload must not import: the project's
    own modules (refused before they run: undoing one after would leave what it configured in
    the modules it touched, such as Django's settings object, for the app to find stale), and
    the modules already left out, along with a later one. An import that met a refusal is left
    out as well, even if it went on (`try: import x except ImportError`): cold, it found x."""

    def __init__(self, third_party):
        self.third_party = third_party
        self.names = set()
        self.refused = []
        self._finding = False

    def find_spec(self, name, path=None, target=None):
        if name in self.names or self._is_project(name, path):
            self.refused.append(name)
            raise ImportError("left out of the preload: %s" % name, name=name)
        return None  # the usual finders find it

    def _is_project(self, name, path):
        if self._finding:
            return False
        self._finding = True
        try:
            spec = importlib.machinery.PathFinder.find_spec(name, path)
        except (ImportError, ValueError):
            return False
        finally:
            self._finding = False
        if spec is None:
            return False
        places = [spec.origin] + list(spec.submodule_search_locations or [])
        return any(self.third_party.is_project_path(place) for place in places)


def import_one(name, third_party, left_out):
    """Imports `name`, or undoes it and raises: Skipped (on purpose), or the import's error."""
    before = set(sys.modules)
    state = ProcessState()
    del left_out.refused[:]
    try:
        importlib.import_module(name)
    except BaseException as error:  # SystemExit at import too: the app would have met it
        undo_imports(before)
        state.restore()
        if type(error).__name__ in NEEDS_SETTINGS or left_out.refused:
            left_out.names.add(name)
            raise Skipped(left_out.refused[0] if left_out.refused else type(error).__name__) from None
        raise
    added = [sys.modules[n] for n in sys.modules if n not in before]
    # Imported by a finder of its own (an editable install's): undone, as far as that goes.
    project = [m.__name__ for m in added if third_party.is_project(m)]
    changed = state.changes(ProcessState())
    if project or changed or left_out.refused:
        undo_imports(before)
        state.restore()
        left_out.names.add(name)
        if project:
            raise Skipped("imports the project's " + ", ".join(project))
        raise Skipped("changes " + ", ".join(changed) if changed else "needs " + left_out.refused[0])


def describe(error):
    text = str(error)
    return "%s: %s" % (type(error).__name__, text) if text else type(error).__name__


def apply_env(env):
    """The --env-file variables, as the boot sets them (the process environment wins). Returns
    the names set, which the boot then sets to its own values: the file may have changed since."""
    import os

    preset = []
    for name, value in (env or {}).items():
        if isinstance(name, str) and isinstance(value, str) and name not in os.environ:
            os.environ[name] = value
            preset.append(name)
    return preset


def preload(message, third_party):
    """Runs a `preload` message; returns (its `preloaded` answer, the env names it set)."""
    started = time.monotonic()
    preset = apply_env(message.get("env"))
    modules = [name for name in message.get("modules") or [] if isinstance(name, str) and name]
    held = set(sys.modules)
    skipped, failed = 0, []
    if any(name == GEVENT or name.startswith(GEVENT + ".") for name in modules):
        skipped, modules = len(modules), []
    left_out = LeftOut(third_party)
    sys.meta_path.insert(0, left_out)
    try:
        # sys.modules is in the order imports finished, dependencies first; a module in an import
        # cycle can fail when entered from the other side, and is tried again after the rest.
        again = []
        for round_, names in enumerate((modules, again)):
            for name in names:
                if name in sys.modules:
                    continue  # imported along with an earlier one, or the runtime's own
                try:
                    import_one(name, third_party, left_out)
                except Skipped:
                    skipped += 1
                except KeyboardInterrupt:
                    raise
                except BaseException as error:
                    if round_ == 0:
                        again.append(name)
                    else:
                        failed.append({"module": name, "error": describe(error)})
    finally:
        sys.meta_path.remove(left_out)
        importlib.invalidate_caches()
    loaded = sum(1 for name in modules if name in sys.modules and name not in held)
    ms = round((time.monotonic() - started) * 1000)
    answer = {"type": "preloaded", "loaded": loaded, "skipped": skipped, "ms": ms}
    if failed:
        answer["failed"] = failed
    return answer, preset
