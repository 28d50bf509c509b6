"""ASGI apps on uvicorn, on the arbiter's sockets. Ready once uvicorn has started (after the
lifespan startup completed); on_tick, which uvicorn's main loop calls every 0.1 s, carries the
heartbeat. A graceful stop sets should_exit (uvicorn drains, then runs the lifespan shutdown);
a quick one also sets force_exit, and the lifespan shutdown still runs (uvicorn alone would skip
it, but a quick stop skips the drain, not the app's cleanup)."""

import asyncio
import atexit
import functools
import os
import signal
import sys
import socket

from .app_loading import describe_error
from .exit_codes import APP_LOAD_ERROR

# How long a stopping worker waits for the first request of a connection it accepted, when the
# arbiter gave no grace for long-lived connections (the same default as its --long-lived-grace).
FIRST_REQUEST_GRACE = 1.0


class LifespanState:
    def __init__(self):
        self.startup_error = None  # the exception or 'failed' message of a failed startup
        self.failed_step = "ASGI lifespan startup"


def _closing_connection(start):
    """An answer this worker gives once it has said it accepts no more (`closed`): its connection
    carries no further request, since the new generation may have answered that client already.
    Uvicorn ends its kept-alive connections at its shutdown, which comes later (its next tick,
    after every accepted connection sent its first request); a connection accepted at the stop
    had no request yet when the kept-alive ones were ended, and would stay alive for old code
    meanwhile. uvicorn closes a connection whose answer says `connection: close`."""
    headers = [
        (name, value) for name, value in start.get("headers", ()) if name.lower() not in (b"connection", "connection")
    ]
    return dict(start, headers=headers + [(b"connection", b"close")])


def wrap_asgi(app, rt, lifespan):
    """Counts http requests; reports the lifespan startup and shutdown as hooks."""
    if asyncio.iscoroutinefunction(app) or asyncio.iscoroutinefunction(getattr(app, "__call__", None)):
        call = app
    else:  # ASGI 2: app(scope) returns the coroutine-callable

        async def call(scope, receive, send):
            return await app(scope)(receive, send)

    reporter = rt.reporter

    async def lifespan_scope(scope, receive, send):
        runs = {}

        async def receive_reported():
            message = await receive()
            kind = message.get("type", "")
            if kind in ("lifespan.startup", "lifespan.shutdown"):
                phase = kind.rsplit(".", 1)[1]
                runs[phase] = reporter.start("lifespan " + phase)
            return message

        async def send_reported(message):
            kind = message.get("type", "")
            for phase in ("startup", "shutdown"):
                if kind == "lifespan.%s.complete" % phase and phase in runs:
                    reporter.end(runs.pop(phase), "ok")
                elif kind == "lifespan.%s.failed" % phase and phase in runs:
                    # Starlette sends the whole traceback; its last line says what failed.
                    text = (message.get("message") or "").strip().splitlines()
                    reporter.end(runs.pop(phase), "error", text[-1] if text else "failed")
                    if phase == "startup" and lifespan.startup_error is None:
                        lifespan.startup_error = message.get("message") or "lifespan startup failed"
            await send(message)

        try:
            await call(scope, receive_reported, send_reported)
        except BaseException as error:
            for phase, run in list(runs.items()):
                reporter.end(run, "error", error)
            if lifespan.startup_error is not None or "startup" in runs:
                lifespan.startup_error = error  # the exception locates it; the failed message did not
            raise
        for run in runs.values():
            reporter.end(run, "error", "the app's lifespan returned without answering")

    async def _http(scope, receive, send):
        response = {"started": False, "complete": False}

        async def send_tracked(message):
            kind = message.get("type")
            if kind == "http.response.start":
                response["started"] = True
                if rt.closing.done:
                    message = _closing_connection(message)
            elif kind == "http.response.body" and not message.get("more_body", False):
                response["complete"] = True
            await send(message)

        try:
            await call(scope, receive, send_tracked)
        except asyncio.CancelledError:
            # A quick stop does not wait for requests: asyncio.run cancels them once the server
            # returned. End the response quietly instead of uvicorn's "Exception in ASGI
            # application" traceback.
            if rt.stop.mode != "quick" or response["complete"]:
                raise
            if not response["started"]:
                await send({"type": "http.response.start", "status": 503, "headers": [(b"connection", b"close")]})
            await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def arbiter_asgi(scope, receive, send):
        kind = scope.get("type")
        if kind == "http":
            token = rt.stats.begin(scope.get("method", "?"), scope.get("path", "/"))
            try:
                await _http(scope, receive, send)
            finally:
                rt.stats.finish(token)
        elif kind == "lifespan":
            await lifespan_scope(scope, receive, send)
        else:
            await call(scope, receive, send)

    return arbiter_asgi


def serve(rt, app):
    """Runs the app until it is stopped; returns the exit code."""
    import uvicorn
    from uvicorn.server import Server

    lifespan = LifespanState()
    rsgi = rt.rsgi_for(app)
    grace_ms = rt.boot.get("longLivedGraceMs")
    grace = None if grace_ms is None else grace_ms / 1000.0

    class ArbiterServer(Server):
        _ready_sent = False

        async def startup(self, sockets=None):
            loop = asyncio.get_running_loop()
            shutdown_once = self.lifespan.shutdown
            done = []

            async def lifespan_shutdown():
                if not done:
                    done.append(True)
                    await shutdown_once()

            self.lifespan.shutdown = lifespan_shutdown
            if rsgi is not None:  # granian sets an RSGI app up before it serves anything
                try:
                    await rsgi.start_async(loop)
                except Exception as error:
                    lifespan.startup_error = error
                    lifespan.failed_step = "__rsgi_init__"
                    self.should_exit = True
                    return
            if rt.cue.given or not self._hold_accepting(loop):
                await super().startup(sockets=sockets)
            else:
                try:
                    await super().startup(sockets=sockets)
                finally:
                    del loop.create_server
                rt.cue.when_given(lambda: loop.call_soon_threadsafe(self._serve_at_cue))
            rt.stop.engine_ready(lambda mode: loop.call_soon_threadsafe(self._arbiter_stop, mode))

        def _hold_accepting(self, loop):
            """Booted to accept on cue: uvicorn's servers are made without serving (asyncio's
            start_serving=False), and start at the arbiter's 'accept'. False where the loop cannot
            be told so (one that is not asyncio's own)."""
            try:
                loop.create_server = functools.partial(loop.create_server, start_serving=False)
            except AttributeError:
                notice = "this event loop cannot wait for its cue: it accepts while the old generation still may"
                rt.send({"type": "notice", "level": "warn", "message": notice})
                return False
            return True

        def _serve_at_cue(self):
            loop = asyncio.get_running_loop()
            for server in getattr(self, "servers", []):
                loop.create_task(self._start_serving(server))

        async def _start_serving(self, server):
            if not rt.stop.stopping:  # checked where it starts: a stop that came first wins
                await server.start_serving()

        def _arbiter_stop(self, mode):
            self._stop_accepting()
            self.should_exit = True
            if mode == "quick":
                self.force_exit = True

        def _stop_accepting(self):
            """On the loop, at once (uvicorn would only notice should_exit at its next 0.1 s
            poll, accepting meanwhile). The sockets leave the loop's epoll here; the servers close
            in shutdown, once the connections accepted last were handed over (asyncio does it in a
            task, which fails on a closed server and drops the connection: a reset)."""
            loop = asyncio.get_running_loop()
            for server in getattr(self, "servers", []):
                for sock in server.sockets or ():
                    loop.remove_reader(sock.fileno())
            self._end_kept_alive()
            rt.closing.closed()

        def _end_kept_alive(self):
            """No further request on a connection this worker kept alive: the new generation may have
            answered that client already. An idle one is closed (a client sends an idempotent request
            again, on a fresh connection), a busy one answers with `Connection: close`. A connection
            whose first request is still on its way is served: it was made before the new code
            answered anyone (_hear_accepted)."""
            for connection in list(getattr(self.server_state, "connections", ())):
                cycle = getattr(connection, "cycle", None)
                if cycle is None:
                    continue
                if cycle.response_complete:
                    connection.transport.close()
                else:
                    cycle.keep_alive = False

        async def _hear_accepted(self, grace):
            """Waits, up to `grace`, until every accepted connection has sent its request: uvicorn's
            shutdown closes a connection with no request yet, and a client that connected before
            the stop would get an empty reply."""
            loop = asyncio.get_running_loop()
            deadline = loop.time() + grace
            # No event says "the first request arrived"; a short poll, bounded by the grace.
            while not self.force_exit and loop.time() < deadline:
                if all(getattr(c, "cycle", True) is not None for c in self.server_state.connections):
                    return
                await asyncio.sleep(0.01)

        async def on_tick(self, counter):
            if self.started and not self._ready_sent and not rt.stop.stopping:
                self._ready_sent = True
                rt.send_ready()
            rt.tick()
            return await super().on_tick(counter)

        async def shutdown(self, sockets=None):
            self._stop_accepting()  # also when uvicorn's own signal handlers started the stop
            for _ in range(3):  # an accepted socket becomes a connection two iterations later
                await asyncio.sleep(0)
            if not self.force_exit:
                await self._hear_accepted(FIRST_REQUEST_GRACE if grace is None else grace)
            await super().shutdown(sockets=sockets)
            await self.lifespan.shutdown()  # after a quick stop too; runs once either way
            if rsgi is not None:
                await rsgi.stop_async()

    config = uvicorn.Config(
        wrap_asgi(app, rt, lifespan),
        interface="asgi3",
        lifespan="auto",
        log_level="info",
        access_log=False,
    )
    server = ArbiterServer(config)

    def on_abort(signum, frame):
        rt.aborted = True
        rt.send({"type": "notice", "level": "warn", "message": "aborted by the arbiter (heartbeat timeout)"})
        # The loop is presumed stuck: no drain, no lifespan shutdown, no on_shutdown hooks.
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)

    signal.signal(signal.SIGABRT, on_abort)
    # uvicorn handles INT and TERM; QUIT (a quick stop, as for gunicorn's workers) would otherwise
    # end the process on the spot, with no hook run.
    signal.signal(signal.SIGQUIT, lambda signum, frame: rt.stop.request("quick"))
    sockets = [socket.socket(fileno=fd) for fd in rt.boot["listenFds"]]
    for sock in sockets:  # a subprocess of the app must not keep the listening socket open
        sock.set_inheritable(False)
    try:
        server.run(sockets=sockets)
    except SystemExit:
        if rt.aborted:
            return 1
        raise
    if not server.started and not rt.stop.stopping:
        error = lifespan.startup_error
        if isinstance(error, BaseException):
            info = describe_error(error)
            info["message"] = "%s failed: %s" % (lifespan.failed_step, info["message"])
        else:
            info = {"message": "%s failed%s" % (lifespan.failed_step, ": %s" % error if error else "")}
        rt.boot_error(info)
        return APP_LOAD_ERROR
    rt.stop.engine_done()  # its loop is closed: a late quick stop has nothing to reach
    rt.shutdown_hooks.run_all()
    return 0
