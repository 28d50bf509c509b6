"""Stopping accepting the moment a stop arrives, and saying so ('closed', runner/protocol/
control.ts): the arbiter announces a reload complete once every old worker said it, so no
connection made after that may reach old code. The engines close their listeners late — gunicorn's
gevent loop sleeps up to a second first, uvicorn polls its exit flag every 0.1 s — and until then
they keep taking connections from the shared socket."""

import os
import socket
import tempfile
import threading


def unreachable_listener():
    """A listening socket nobody can connect to: a Unix socket whose path is already gone (made in
    a private folder, so no one else could reach it meanwhile). Non-blocking: accept() says EAGAIN,
    and select() or epoll never find it readable. /tmp when TMPDIR is too long for a socket path."""
    for base in (None, "/tmp"):
        try:
            return _listener_in(tempfile.mkdtemp(prefix="arbiter-closed-", dir=base))  # mode 0700
        except OSError as error:
            failure = error
    raise failure


def _listener_in(folder):
    path = os.path.join(folder, "listener")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.bind(path)
        sock.listen(1)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    finally:
        if os.path.exists(path):
            os.unlink(path)
        os.rmdir(folder)
    return sock


def identity(fd):
    """What a descriptor refers to (its inode), or None when it is closed."""
    try:
        info = os.fstat(fd)
    except OSError:
        return None
    return (info.st_dev, info.st_ino)


def replace_listening_fds(fds, listening, spare):
    """Puts `spare` (an unreachable listener, made at boot: a stop does no file-system work, and a
    kill in the middle of one leaves nothing behind) in place of each of `fds` that still refers to
    one of the `listening` sockets (identities), atomically (dup2), from any thread. A number the
    engine closed and the app reused is left alone.

    Closing them instead would race with the engine's own thread: a select() or accept() on a
    closed number fails (EBADF ends gunicorn's loop with a traceback), and the next socket the app
    opens could take the number. Under dup2 the number stays valid and this process no longer holds
    the shared socket: a connection made from now on is accepted by another worker."""
    for fd in sorted(set(fds)):
        if fd < 0 or identity(fd) not in listening:
            continue
        try:
            os.dup2(spare.fileno(), fd, inheritable=False)
        except OSError:
            pass  # closed meanwhile: nothing left to stop


class Closing:
    """Says 'closed' once, after the engine stopped accepting (however it got there), with the
    request counters at that moment: a reload's swap counts what the old worker finished from
    then on."""

    def __init__(self, send, counters):
        self._send = send
        self._counters = counters  # () -> (served, inflight)
        self._lock = threading.Lock()  # made before gevent patches: a real one
        self.done = False

    def closed(self):
        with self._lock:
            if self.done:
                return
            self.done = True
        served, inflight = self._counters()
        self._send({"type": "closed", "served": served, "inflight": inflight})


class AcceptCue:
    """Holds accepting until the arbiter says 'accept' (a boot with acceptOnCue: the first worker
    of a new generation, while the old one may still accept, runner/arbiter/generations/
    handover.ts). Made before gevent patches, so its event and lock are real ones that the reader
    thread can set."""

    def __init__(self, held):
        self._lock = threading.Lock()
        self._given = threading.Event()
        self._callbacks = []
        if not held:
            self._given.set()

    @property
    def given(self):
        return self._given.is_set()

    def give(self):
        """The arbiter's 'accept', on the reader thread."""
        with self._lock:
            self._given.set()
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def when_given(self, callback):
        """Calls `callback` now if the cue was given, else on the reader thread when it is."""
        with self._lock:
            if not self._given.is_set():
                self._callbacks.append(callback)
                return
        callback()

    def wait(self, timeout):
        return self._given.wait(timeout)
