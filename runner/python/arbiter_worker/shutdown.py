"""How a worker stops. A stop message is acted on by the engine's own stop path (gunicorn's
signal handlers, uvicorn's should_exit); graceful can be escalated to quick, nothing
de-escalates. After the engine stopped serving: the app's on_shutdown hooks (last registered
first), then the engine's exit hooks, then the non-daemon threads Python would wait for."""

import asyncio
import inspect
import threading
import time

# How long non-daemon threads get to end by themselves before they are reported as lingering
# (an idle thread pool told to shut down ends within it).
THREAD_GRACE = 0.2


class StopControl:
    def __init__(self):
        self._lock = threading.RLock()  # reentrant: the signal handler runs in the main thread
        self.mode = None
        self._stopper = None
        self._pending = None

    @property
    def stopping(self):
        return self.mode is not None

    def request(self, mode):
        """Called from the reader thread. Returns the mode to act on, or None (nothing changes)."""
        with self._lock:
            if self.mode == "quick" or self.mode == mode:
                return None
            self.mode = mode if self.mode is None else "quick"
            stopper = self._stopper
            if stopper is None:
                self._pending = self.mode
                return self.mode
        stopper(self.mode)
        return self.mode

    def engine_done(self):
        """The engine has stopped serving: from here on (the on_shutdown hooks, worker_exit) a
        quick stop has nothing left to cut short, and must not reach an engine that is gone."""
        with self._lock:
            self._stopper = lambda mode: None
            self._pending = None

    def engine_ready(self, stopper):
        """The engine can stop now; a stop that came earlier is applied at once."""
        with self._lock:
            self._stopper = stopper
            pending, self._pending = self._pending, None
        if pending:
            stopper(pending)


class ShutdownHooks:
    """The app's `arbiter.on_shutdown(name, fn, timeout=None)` hooks."""

    def __init__(self, reporter):
        self._reporter = reporter
        self._entries = []
        self._ran = False

    def register(self, name, fn, timeout=None):
        self._entries.append((name, fn, timeout))

    def run_all(self):
        if self._ran:
            return
        self._ran = True
        for name, fn, timeout in reversed(self._entries):
            self._run_one(name, fn, timeout)

    def _run_one(self, name, fn, timeout):
        run = self._reporter.start(name)
        if timeout is None:
            try:
                _call(fn)
            except BaseException as error:  # a hook's failure is reported; the next hooks still run
                self._reporter.end(run, "error", error)
            else:
                self._reporter.end(run, "ok")
            return
        outcome = {}

        def target():
            try:
                _call(fn)
                outcome["ok"] = True
            except BaseException as error:
                outcome["error"] = error

        thread = threading.Thread(target=target, name="on_shutdown " + name, daemon=True)
        thread.start()
        thread.join(timeout)
        if thread.is_alive():
            self._reporter.end(run, "timeout", "did not finish within %g s" % timeout)
        elif "error" in outcome:
            self._reporter.end(run, "error", outcome["error"])
        else:
            self._reporter.end(run, "ok")


def _call(fn):
    result = fn()
    if inspect.isawaitable(result):
        async def wait():
            return await result

        asyncio.run(wait())


def wait_for_threads(reporter, send, pending_atexit=lambda: []):
    """Joins the non-daemon threads that would keep Python from exiting, each reported as an
    open hook until it ends. One that never ends stays open until the arbiter kills the worker
    at its deadline: that is how "a thread kept the worker alive" becomes visible.
    `pending_atexit` names the app's atexit handlers not run yet: Python runs them only after
    these threads ended, so a handler meant to stop one of them never runs, and that is said."""
    current = threading.current_thread()
    main = threading.main_thread()
    # What Python's own shutdown does first: concurrent.futures tells its idle pool threads to
    # end (registered through threading._register_atexit). Without it every app with an
    # executor would look like one that keeps its worker alive.
    for hook in reversed(getattr(threading, "_threading_atexits", [])):
        try:
            hook()
        except Exception:  # noqa: BLE001 - the stdlib's own hooks; nothing to report
            pass
    threading._threading_atexits = []

    def candidates():
        return [
            t
            for t in threading.enumerate()
            if t is not current
            and t is not main
            and not t.daemon
            and t.is_alive()
            and not isinstance(t, threading._DummyThread)
        ]

    deadline = time.monotonic() + THREAD_GRACE
    for thread in candidates():
        thread.join(max(0.0, deadline - time.monotonic()))
    remaining = candidates()
    if not remaining:
        return
    labels = ["thread %s (non-daemon)" % t.name for t in remaining]
    send({"type": "lingering", "resources": labels})
    handlers = pending_atexit()
    if handlers:
        send({"type": "notice", "level": "warn", "message": never_run_warning(remaining, handlers)})
    runs = [(t, reporter.start(label)) for t, label in zip(remaining, labels)]
    for thread, run in runs:
        thread.join()
        reporter.end(run, "ok")


def never_run_warning(threads, handlers):
    """One line: which atexit handlers wait for which threads, why, and what to use instead."""
    if len(threads) == 1:
        running = "thread %r is" % threads[0].name
    else:
        running = "threads %s are" % ", ".join("%r" % t.name for t in threads)
    return (
        "%s will never run: Python runs atexit handlers only after every non-daemon thread has ended, "
        "and %s still running, so this worker will be killed at the graceful timeout; stop the thread "
        "from arbiter.on_shutdown(name, fn), which runs before Python waits for threads, or make it a "
        "daemon thread" % (", ".join(handlers), running)
    )
