"""What Arbiter gives a Python app it runs, with nothing to install:

    import arbiter

    arbiter.on_shutdown("db pool", pool.disconnect, timeout=5)

    @arbiter.on_shutdown("flush metrics")
    def flush():
        ...

`on_shutdown` registers named cleanup that runs once when the worker stops (gracefully, after
in-flight requests finished; or on a quick stop), after the server stopped serving. Hooks run
last registered first, one at a time; each run is reported with its outcome and duration. A hook
over its `timeout` (seconds) is reported as timed out and the next one starts. A hook may be a
coroutine function.

Outside an Arbiter worker (tests, a plain gunicorn) the hook is registered with atexit instead,
so the same code runs everywhere. `worker` is this worker's id and generation, or None outside.
"""

import atexit as _atexit
from typing import NamedTuple as _NamedTuple


class WorkerInfo(_NamedTuple):
    id: int
    generation: int


worker = None
_register = None

__all__ = ["on_shutdown", "worker", "WorkerInfo"]


def on_shutdown(name, fn=None, timeout=None):
    if not isinstance(name, str) or not name:
        raise TypeError("on_shutdown: name must be a non-empty string, got %r" % (name,))
    if timeout is not None and not (isinstance(timeout, (int, float)) and timeout > 0):
        raise TypeError("on_shutdown(%r): timeout must be a number of seconds greater than 0, got %r" % (name, timeout))
    if fn is None:  # used as a decorator

        def decorate(f):
            on_shutdown(name, f, timeout)
            return f

        return decorate
    if not callable(fn):
        raise TypeError("on_shutdown(%r): fn must be callable, got %s" % (name, type(fn).__name__))
    if _register is not None:
        _register(name, fn, timeout)
    else:
        _atexit.register(_run_outside, fn)
    return fn


def _run_outside(fn):
    result = fn()
    if hasattr(result, "__await__"):
        import asyncio

        async def wait():
            return await result

        asyncio.run(wait())


def _install(register, worker_id, generation):
    """Called by the worker runtime before the app is imported."""
    global _register, worker
    _register = register
    worker = WorkerInfo(int(worker_id), int(generation))
