"""The worker's end of the control channel: fd 3, a Unix socketpair shared with the arbiter,
newline-delimited JSON both ways (see runner/protocol/control.ts).

Writes come from the serving loop, request threads or greenlets, the reader thread and exit
handlers, so every write goes through one lock. The lock and the socket are created before any
gevent monkey patching, so they stay real OS primitives: a write never yields to a hub while the
lock is held, and the reader stays a real thread blocked in a real recv.
"""

import json
import os
import socket
import threading

CONTROL_FD = 3


class ControlChannel:
    def __init__(self, fd=CONTROL_FD):
        # Reentrant: a signal handler runs in the main thread, possibly in the middle of a write.
        self._lock = threading.RLock()
        self._writing = False
        self._backlog = []
        self._sock = socket.socket(fileno=fd)
        self._sock.set_inheritable(False)  # the app's subprocesses must not hold the arbiter's line
        self._sock.setblocking(True)  # Node may hand the socket over non-blocking
        self._buffer = b""
        self._open = True

    def send(self, message):
        data = (json.dumps(message, separators=(",", ":"), default=str) + "\n").encode()
        with self._lock:
            if not self._open:
                return
            if self._writing:
                # Re-entered from a signal handler (worker_int, an abort) that interrupted this
                # thread's own write: queued, so the lines do not interleave; the write flushes it.
                self._backlog.append(data)
                return
            self._writing = True
            try:
                self._sock.sendall(data)
                while self._backlog:
                    self._sock.sendall(self._backlog.pop(0))
            except OSError:
                self._open = False  # the arbiter is gone; the reader sees the EOF and acts
            finally:
                self._writing = False

    def read_message(self):
        """The next message, or None at EOF. Lines that are not JSON objects are skipped with a notice."""
        while True:
            newline = self._buffer.find(b"\n")
            while newline < 0:
                try:
                    chunk = self._sock.recv(65536)
                except InterruptedError:
                    continue
                except OSError:
                    chunk = b""
                if not chunk:
                    return None
                self._buffer += chunk
                newline = self._buffer.find(b"\n")
            line, self._buffer = self._buffer[:newline], self._buffer[newline + 1 :]
            if not line.strip():
                continue
            try:
                message = json.loads(line)
            except ValueError as error:
                message = None
                problem = str(error)
            else:
                problem = "not a JSON object with a type"
            if isinstance(message, dict) and isinstance(message.get("type"), str):
                return message
            self.send({"type": "notice", "level": "warn", "message": "ignored a malformed control message: " + problem})

    def start_reader(self, on_message, on_eof):
        """Reads the rest of the channel on a daemon thread (a real one: call before monkey patching)."""

        def read():
            while True:
                message = self.read_message()
                if message is None:
                    on_eof()
                    return
                try:
                    on_message(message)
                except Exception as error:  # a bug here must not end the reading
                    self.send({"type": "notice", "level": "warn", "message": "control message failed: %r" % error})

        thread = threading.Thread(target=read, name="arbiter-control", daemon=True)
        thread.start()
        return thread


def open_channel():
    """The channel, or None when fd 3 is not a socket (run by hand, not by the arbiter).

    The channel moves off fd 3 to a number of its own: fd 3 means nothing to the app under
    plain Python, and an app or library that closes it (os.close(3), a "close inherited fds"
    step) would otherwise close the channel, and the next accepted connection would get the
    number and the protocol.
    """
    try:
        os.fstat(CONTROL_FD)
        fd = os.dup(CONTROL_FD)  # not inheritable (PEP 446)
        # fd 3 itself becomes /dev/null: closing it harms nothing, and no socket of the app's
        # takes the number meanwhile.
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, CONTROL_FD, inheritable=False)
        os.close(null)
        return ControlChannel(fd)
    except OSError:
        return None
