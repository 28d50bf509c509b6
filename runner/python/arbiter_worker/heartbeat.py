"""Heartbeats, sent from the serving loop itself (gunicorn's notify(), uvicorn's on_tick): a loop
that is stuck stops beating, which is the point. A beat is due every `heartbeatMs`; in between,
one goes out when the request counters changed, at most once a second."""

import time

STATS_INTERVAL = 1.0


def tick_interval(heartbeat_ms):
    """How often the serving loop should wake to beat (and report counters)."""
    return min(STATS_INTERVAL, heartbeat_ms / 1000.0) if heartbeat_ms > 0 else STATS_INTERVAL


class Heartbeat:
    def __init__(self, send, stats, heartbeat_ms):
        self._send = send
        self._stats = stats
        self._interval = heartbeat_ms / 1000.0
        self._slack = tick_interval(heartbeat_ms) / 2
        self._sent_at = None
        self._sent = (-1, -1)

    def tick(self):
        now = time.monotonic()
        counters = self._stats.snapshot()
        elapsed = None if self._sent_at is None else now - self._sent_at
        due = self._interval > 0 and (elapsed is None or elapsed >= self._interval - self._slack)
        changed = counters != self._sent and (elapsed is None or elapsed >= STATS_INTERVAL)
        if not (due or changed):
            return
        self._send({"type": "heartbeat", "served": counters[0], "inflight": counters[1]})
        self._sent_at = now
        self._sent = counters

    def final(self):
        """The last counters, as the worker exits (atexit): a reload's swap counts what the old
        worker served to the end."""
        counters = self._stats.snapshot()
        if counters != self._sent:
            self._send({"type": "heartbeat", "served": counters[0], "inflight": counters[1]})
            self._sent = counters
