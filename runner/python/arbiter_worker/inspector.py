"""The debugger (debugpy), opened only when the arbiter asks: on 127.0.0.1 and a free port,
never a fixed one. The reader thread asks; the main thread opens it, from a SIGUSR2 handler,
because debugpy must be set up where the app's code runs."""

import _thread
import importlib.util
import os
import signal
import sys
import threading
import time

# Taken before gevent can patch them (this module is imported first).
_start_real_thread = _thread.start_new_thread
_real_sleep = time.sleep

OPEN_TIMEOUT = 15.0


class Inspector:
    def __init__(self, send):
        self._send = send
        self._lock = threading.RLock()  # reentrant: the signal handler runs in the main thread
        self._port = None
        self._pending = False
        self._handler_installed = False
        self._under_gevent = False

    def missing_message(self):
        return (
            "debugpy is not installed for %s: apt install python3-debugpy, or pip install debugpy" % sys.executable
        )

    # ---- main thread -------------------------------------------------------------------

    def install_handler(self):
        """(Re)installs the SIGUSR2 handler; call from the main thread, again after an engine
        reset the signals. A request that came while no handler was installed runs now."""
        with self._lock:
            signal.signal(signal.SIGUSR2, self._on_signal)
            self._handler_installed = True
            pending = self._pending
        if pending:
            os.kill(os.getpid(), signal.SIGUSR2)

    def uninstall_handler(self):
        """Before an engine resets the signals: requests wait until install_handler."""
        with self._lock:
            self._handler_installed = False

    def gevent_patched(self):
        self._under_gevent = True

    def _on_signal(self, signum, frame):
        with self._lock:
            if not self._pending:
                return
            self._pending = False
        if self._under_gevent:
            # The handler may run inside the hub, where nothing may block: a greenlet opens it.
            import gevent

            gevent.spawn(self._open)
        else:
            self._open()

    def _open(self):
        # Python 3.11's frozen stdlib modules make debugpy print a warning on every attach.
        os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
        if self._under_gevent:
            os.environ.setdefault("GEVENT_SUPPORT", "True")  # read by pydevd when it is imported
        try:
            import debugpy
        except ImportError:
            self._send({"type": "inspector", "error": self.missing_message()})
            return
        done = []

        def watchdog():  # a real thread and a real sleep, even under gevent
            _real_sleep(OPEN_TIMEOUT)
            if not done:
                self._send(
                    {"type": "inspector", "error": "debugpy did not open within %d s" % OPEN_TIMEOUT}
                )

        _start_real_thread(watchdog, ())
        try:
            host, port = debugpy.listen(("127.0.0.1", 0))
        except Exception as error:  # debugpy raises RuntimeError and friends
            done.append(True)
            self._send({"type": "inspector", "error": "debugpy could not listen: %s" % error})
            return
        done.append(True)
        self._port = port
        self._send({"type": "inspector", "port": port, "url": "tcp://%s:%d" % (host, port)})

    def ports(self):
        """The debugger's own port, once open: its sockets are the runtime's, not the app's."""
        return {self._port} if self._port is not None else set()

    # ---- reader thread ------------------------------------------------------------------

    def request(self):
        if self._port is not None:
            self._send({"type": "inspector", "port": self._port, "url": "tcp://127.0.0.1:%d" % self._port})
            return
        if importlib.util.find_spec("debugpy") is None:
            self._send({"type": "inspector", "error": self.missing_message()})
            return
        with self._lock:
            already = self._pending
            self._pending = True
            # Under the lock: the handler cannot be swapped for SIG_DFL (which ends the process)
            # between this check and the delivery.
            if self._handler_installed and not already:
                os.kill(os.getpid(), signal.SIGUSR2)
