"""Apps in granian's RSGI protocol (`__rsgi__(scope, protocol)`, set up by `__rsgi_init__(loop)`
and torn down by `__rsgi_del__(loop)`). Granian is not one of the servers this runtime has, so
an app is served through its ASGI or WSGI face; its RSGI lifecycle still runs around that, as
granian runs it, each call reported as a hook. An app with nothing but `__rsgi__` cannot be
served, and is told what it needs."""

import asyncio
import inspect

RSGI_ONLY = (
    "%s is an RSGI app (it has __rsgi__ and is neither a WSGI nor an ASGI callable): RSGI is served by granian, "
    "which is not available here; give it an ASGI face (async __call__(scope, receive, send)) or a WSGI one "
    "(__call__(environ, start_response)) and it runs here, its __rsgi_init__/__rsgi_del__ around it"
)


def is_rsgi(app):
    return callable(getattr(app, "__rsgi__", None))


class RsgiLifecycle:
    """Calls `__rsgi_init__(loop)` before the app serves and `__rsgi_del__(loop)` once it stopped
    serving; each that the app defines is the hook `rsgi <name>`. The loop is the engine's own
    (uvicorn's), or, for a WSGI face, one made for these calls, as granian gives every worker one."""

    def __init__(self, app, reporter):
        self._app = app
        self._reporter = reporter
        self._loop = None
        self._own_loop = False
        self._started = False

    @classmethod
    def of(cls, app, reporter):
        """The lifecycle of `app`, or None when it is not an RSGI app."""
        return cls(app, reporter) if is_rsgi(app) else None

    async def start_async(self, loop):
        """Inside the engine's running loop (ASGI)."""
        self._loop, self._started = loop, True
        result = self._call("__rsgi_init__")
        if result is not None:
            await result

    async def stop_async(self):
        if self._started:
            self._started = False
            result = self._call("__rsgi_del__", raise_error=False)
            if result is not None:
                await result

    def start(self):
        """Outside any loop (WSGI): the loop is made here, and closed after `__rsgi_del__`."""
        self._loop, self._own_loop, self._started = asyncio.new_event_loop(), True, True
        self._call("__rsgi_init__", run=True)

    def stop(self):
        if not self._started:
            return
        self._started = False
        try:
            self._call("__rsgi_del__", raise_error=False, run=True)
        finally:
            if self._own_loop:
                self._loop.close()

    def _call(self, name, raise_error=True, run=False):
        """Runs the app's `name`, reported. A coroutine it returns is awaited: run here on our own
        loop (`run`), else returned to the caller to await, its outcome then reported."""
        fn = getattr(self._app, name, None)
        if not callable(fn):
            return None
        hook = self._reporter.start("rsgi " + name)
        try:
            result = fn(self._loop)
            if inspect.isawaitable(result):
                if not run:
                    return self._finish(hook, result, raise_error)
                self._loop.run_until_complete(result)
        except BaseException as error:
            self._reporter.end(hook, "error", error)
            if raise_error:
                raise
            return None
        self._reporter.end(hook, "ok")
        return None

    async def _finish(self, hook, awaitable, raise_error):
        try:
            await awaitable
        except BaseException as error:
            self._reporter.end(hook, "error", error)
            if raise_error:
                raise
            return
        self._reporter.end(hook, "ok")
