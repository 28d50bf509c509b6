"""Reports worker-side hook runs: a `start` when a hook begins and an `end` with its outcome and
duration, paired by a run number unique in this worker."""

import itertools
import threading
import time


def error_text(error):
    if error is None:
        return None
    if isinstance(error, BaseException):
        text = str(error)
        return "%s: %s" % (type(error).__name__, text) if text else type(error).__name__
    return str(error)


class HookReporter:
    def __init__(self, send):
        self._send = send
        self._runs = itertools.count(1)
        self._lock = threading.RLock()  # reentrant: signal handlers report hooks too; real (pre-patching)
        self._open = {}

    def start(self, name):
        with self._lock:
            run = next(self._runs)
            self._open[run] = (name, time.monotonic())
        self._send({"type": "hook", "run": run, "name": name, "phase": "start"})
        return run

    def end(self, run, outcome, error=None):
        with self._lock:
            entry = self._open.pop(run, None)
        if entry is None:
            return
        name, started = entry
        message = {
            "type": "hook",
            "run": run,
            "name": name,
            "phase": "end",
            "outcome": outcome,
            "durationMs": round((time.monotonic() - started) * 1000, 1),
        }
        text = error_text(error)
        if text:
            message["error"] = text
        self._send(message)

    def call(self, name, fn, *args, **kwargs):
        """Runs fn as the hook `name`. Exceptions are reported, then raised again; SystemExit from
        inside a hook is an ordinary way for a signal hook to finish and counts as ok."""
        run = self.start(name)
        try:
            result = fn(*args, **kwargs)
        except SystemExit:
            self.end(run, "ok")
            raise
        except BaseException as error:
            self.end(run, "error", error)
            raise
        self.end(run, "ok")
        return result
