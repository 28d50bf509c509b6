"""atexit handlers the app (or a library it uses) registers run at interpreter exit as usual;
each run is reported as the hook "atexit <qualname>". Installed before the app is imported.
Handlers defined in the standard library (logging, multiprocessing...) or by the debugger
are left unreported."""

import atexit
import os
import sysconfig

_STDLIB = os.path.abspath(sysconfig.get_paths()["stdlib"]) + os.sep
_original_register = atexit.register
_original_unregister = atexit.unregister


# The debugger's own cleanup (it registers some when the arbiter asks for an inspector).
_RUNTIME_MODULES = ("debugpy", "pydevd", "_pydev", "arbiter_worker")


def _unreported(fn):
    module = getattr(fn, "__module__", None) or ""
    return module.startswith(_RUNTIME_MODULES) or _from_stdlib(fn)


def _from_stdlib(fn):
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    if code is None:
        return getattr(fn, "__module__", None) in ("builtins", None)
    filename = os.path.abspath(code.co_filename)
    return filename.startswith(_STDLIB) and "-packages" not in filename


# The reported handlers registered and not yet run, wrapper → hook name, in registration order.
_pending = {}


def pending():
    """The hook names of the app's atexit handlers that have not run (yet)."""
    return list(_pending.values())


def install(reporter):
    wrappers = {}

    def register(fn, *args, **kwargs):
        if _unreported(fn):
            _original_register(fn, *args, **kwargs)
            return fn
        name = "atexit " + (getattr(fn, "__qualname__", None) or repr(fn))

        def reported(*a, **k):
            _pending.pop(reported, None)
            return reporter.call(name, fn, *a, **k)

        wrappers.setdefault(fn, []).append(reported)
        _pending[reported] = name
        _original_register(reported, *args, **kwargs)
        return fn

    def unregister(fn):
        for wrapper in wrappers.pop(fn, []):
            _pending.pop(wrapper, None)
            _original_unregister(wrapper)
        _original_unregister(fn)

    register.__doc__ = _original_register.__doc__
    atexit.register = register
    atexit.unregister = unregister
