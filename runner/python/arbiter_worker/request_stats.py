"""Request counters: `served` (finished) and `inflight`, reported in heartbeats; `retire` once
max-requests is reached (the worker keeps serving; the arbiter replaces it). While a stop drains,
which requests are in flight: sent as the stop begins, every second while any remain, and once
more, empty, when the last one ended."""

import _thread
import itertools
import threading
import time

# Taken before gevent can patch them (this module is imported before the app, and before the
# gevent worker class patches): the drain's reports run on a real thread with a real sleep.
_start_real_thread = _thread.start_new_thread
_real_sleep = time.sleep

# The most in-flight requests one report lists, the oldest (control.ts IN_FLIGHT_LIST_LIMIT).
IN_FLIGHT_LIST_LIMIT = 20
REPORT_INTERVAL = 1.0


class RequestStats:
    def __init__(self, send, max_requests):
        self._send = send
        self._max_requests = max_requests
        self._lock = threading.Lock()  # a real lock: held for a few bytecodes, never across a switch
        self.served = 0
        self._requests = {}  # token -> (method, path, started), in arrival order
        self._tokens = itertools.count()
        self._draining = False

    @property
    def inflight(self):
        return len(self._requests)

    def begin(self, method="?", path="/"):
        """A request came; the token it returns ends it (finish)."""
        token = next(self._tokens)
        with self._lock:
            self._requests[token] = (method, path.split("?")[0] or "/", time.monotonic())
        return token

    def finish(self, token):
        with self._lock:
            self._requests.pop(token, None)
            self.served += 1
            served = self.served
        if served == 1:
            # When the new code first answered, for the reload's figures (control.ts first-response).
            self._send({"type": "first-response", "at": time.time() * 1000})
        if self._max_requests > 0 and served == self._max_requests:
            self._send({"type": "retire", "reason": "served %d requests (max-requests)" % served})

    def snapshot(self):
        with self._lock:
            return self.served, len(self._requests)

    def report_drain(self):
        """From the stop on: which requests it waits on, in a thread of its own (the engine's loop
        is busy draining), until none are left."""
        with self._lock:
            if self._draining or not self._requests:
                return
            self._draining = True
        _start_real_thread(self._drain_reports, ())

    def _drain_reports(self):
        while True:
            with self._lock:
                now = time.monotonic()
                total = len(self._requests)
                listed = list(self._requests.values())[:IN_FLIGHT_LIST_LIMIT]
            requests = [
                {"method": method, "path": path, "ageMs": int((now - started) * 1000)}
                for method, path, started in listed
            ]
            self._send({"type": "requests", "requests": requests, "total": total})
            if total == 0:
                return
            _real_sleep(REPORT_INTERVAL)


class _CountedResponse:
    """The app's response iterable; the request stays in flight until the server closes it."""

    def __init__(self, iterable, done):
        self._iterable = iterable
        self._done = done  # called once, when the server closes the response

    def __iter__(self):
        return iter(self._iterable)

    def close(self):
        try:
            close = getattr(self._iterable, "close", None)
            if close is not None:
                close()
        finally:
            done, self._done = self._done, None
            if done is not None:
                done()


def count_wsgi(app, stats):
    def counted_app(environ, start_response):
        token = stats.begin(environ.get("REQUEST_METHOD", "?"), environ.get("PATH_INFO", "/"))
        try:
            iterable = app(environ, start_response)
        except BaseException:
            stats.finish(token)
            raise
        return _CountedResponse(iterable, lambda: stats.finish(token))

    counted_app.__wrapped__ = app
    return counted_app
