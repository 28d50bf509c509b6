"""Request counters: `served` (finished) and `inflight`, reported in heartbeats; `retire` once
max-requests is reached (the worker keeps serving; the arbiter replaces it)."""

import threading


class RequestStats:
    def __init__(self, send, max_requests):
        self._send = send
        self._max_requests = max_requests
        self._lock = threading.Lock()  # a real lock: held for a few bytecodes, never across a switch
        self.served = 0
        self.inflight = 0

    def begin(self):
        with self._lock:
            self.inflight += 1

    def finish(self):
        with self._lock:
            self.inflight -= 1
            self.served += 1
            served = self.served
        if self._max_requests > 0 and served == self._max_requests:
            self._send({"type": "retire", "reason": "served %d requests (max-requests)" % served})

    def snapshot(self):
        with self._lock:
            return self.served, self.inflight


class _CountedResponse:
    """The app's response iterable; the request stays in flight until the server closes it."""

    def __init__(self, iterable, done):
        self._iterable = iterable
        self._done = done

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
        stats.begin()
        try:
            iterable = app(environ, start_response)
        except BaseException:
            stats.finish()
            raise
        return _CountedResponse(iterable, stats.finish)

    counted_app.__wrapped__ = app
    return counted_app
