"""The Python worker runtime: the first code a worker process runs. It opens the control
channel, waits for its boot message, decides how the app is served (WSGI on a gunicorn worker
class, ASGI on uvicorn), loads it, and from then on beats, counts requests and stops on command.
Exit codes: 0 after a stop, 4 when the app could not be loaded (gunicorn's APP_LOAD_ERROR),
1 on a fatal error."""

import atexit
import importlib.util
import os
import signal
import sys
import time
import traceback

import arbiter

from . import atexit_hooks
from .boot_profile import BootTiming
from .app_loading import AppLoadError, describe_error, import_app, is_asgi
from .control_channel import CONTROL_FD, open_channel
from .dependencies import DependencyReport, ThirdParty
from .exit_codes import APP_LOAD_ERROR
from .gunicorn_config import make_config, read_settings, setting_name
from .heartbeat import Heartbeat
from .hook_reporter import HookReporter
from .inspector import Inspector
from .listeners import AcceptCue, Closing
from .mid_save import MidSaveGuard
from .preload import preload
from .request_stats import RequestStats
from .resources import HeldReporter
from .rsgi import RsgiLifecycle
from .shutdown import ShutdownHooks, StopControl, wait_for_threads
from .stacks import stacks_message

# How long an orphaned worker (arbiter gone) gives its quick stop before it ends its process group.
ORPHAN_GRACE = 0.4

RSGI_FACE = (
    "--interface rsgi: granian is not available here, so the app is served through its ASGI or WSGI face, "
    "with its __rsgi_init__ and __rsgi_del__ called around that"
)

INSTALL = {
    "gunicorn": "WSGI apps are served by gunicorn, which %s cannot import: "
    "apt install python3-gunicorn, or pip install gunicorn",
    "uvicorn": "ASGI apps are served by uvicorn, which %s cannot import: "
    "apt install python3-uvicorn, or pip install uvicorn",
    "gevent": "the gevent worker class needs gevent, which %s cannot import: "
    "apt install python3-gevent, or pip install gevent",
}


class Runtime:
    """What the engines share: the channel, the reporters and the stop state."""

    def __init__(self, channel, app_spec, third_party):
        self.channel = channel
        self.app_spec = app_spec
        self.send = channel.send
        self.reporter = HookReporter(self.send)
        self.stop = StopControl()
        self.shutdown_hooks = ShutdownHooks(self.reporter)
        self.inspector = Inspector(self.send)
        self.closing = Closing(self.send, lambda: self.stats.snapshot() if self.stats else (0, 0))
        self.cue = AcceptCue(held=False)
        self.dependencies = DependencyReport(self.send, third_party)
        self.aborted = False
        self.rsgi_lifecycle = False  # whether an RSGI app's __rsgi_init__/__rsgi_del__ run
        self.rsgi_requested = False  # --interface rsgi
        self.boot = None
        self.stats = None
        self.heartbeat = None
        self.held = None
        self._ready = False
        self.timing = BootTiming()  # made as the boot message is taken
        self._third_party = third_party

    def send_ready(self):
        if not self._ready:
            self._ready = True
            self.send({"type": "ready", "profile": self.timing.profile()})
            self.dependencies.ready()
            # From here on what it imports of the project, it imports on first use (mid_save.py).
            sys.meta_path.insert(0, MidSaveGuard(self._third_party, self.warn))

    def warn(self, message):
        """A warning on this worker's line of the arbiter's log (and its event stream)."""
        self.send({"type": "notice", "level": "warn", "message": message})

    def load_app(self):
        """The app, imported (import_app) and timed as the boot's load."""
        with self.timing.loading():
            return import_app(self.app_spec)

    def tick(self):
        """Called by the serving loop, at least once a second."""
        self.heartbeat.tick()
        self.dependencies.tick()

    def rsgi_for(self, app):
        """The RSGI lifecycle to run around `app`, or None; under --interface rsgi, says how the
        app is served instead (once it is known to have a face that can be)."""
        lifecycle = RsgiLifecycle.of(app, self.reporter) if self.rsgi_lifecycle else None
        if self.rsgi_requested:
            if lifecycle is not None:
                self.send({"type": "notice", "level": "info", "message": RSGI_FACE})
            else:  # granian would fail it; here it still serves, and the mismatch is said
                message = "--interface rsgi: %s has no __rsgi__, so it is served as the app it is" % self.app_spec
                self.send({"type": "notice", "level": "warn", "message": message})
        return lifecycle

    def boot_error(self, error):
        info = error if isinstance(error, dict) else describe_error(error)
        self.send({"type": "boot-error", "error": info})
        text = info.get("stack") or info["message"]
        if info.get("file") and "Traceback" not in text and not isinstance(error, AppLoadError):
            text = "%s:%s\n%s" % (info["file"], info.get("line", "?"), text)
        print(text, file=sys.stderr, flush=True)

    def fatal(self, error):
        self.send({"type": "fatal", "error": describe_error(error)})
        traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)

    # ---- arbiter → worker, on the reader thread ---------------------------------------

    def on_message(self, message):
        kind = message["type"]
        if kind == "stop":
            mode = message.get("mode")
            if mode not in ("graceful", "quick"):
                self.send({"type": "notice", "level": "warn", "message": "ignored a stop with mode %r" % (mode,)})
                return
            self.send({"type": "stopping", "mode": mode})  # first: the arbiter then sends no signal
            # The stop first: it stops accepting and says 'closed', which a reload's handover waits
            # for (a second at most); nothing else may delay it (gunicorn's engines say what the
            # worker holds in their stop, between the two).
            self.stop.request(mode)
            if self.held is not None:
                self.held.at_stop()
            if self.stats is not None:
                self.stats.report_drain()
        elif kind == "stacks":
            self.send(stacks_message())
        elif kind == "accept":
            self.cue.give()
        elif kind == "inspect":
            self.inspector.request()
        elif kind == "reopen-logs":
            handler = signal.getsignal(signal.SIGUSR1)
            if callable(handler):  # gunicorn reopens its log files on USR1; the default would kill
                os.kill(os.getpid(), signal.SIGUSR1)

    def on_eof(self):
        """The arbiter is gone: stop quickly, and take every process this worker started along."""
        self.stop.request("quick")
        time.sleep(ORPHAN_GRACE)
        sys.stderr.flush()
        if os.getpgrp() == os.getpid():
            os.killpg(os.getpid(), signal.SIGKILL)
        os._exit(1)


def main():
    app_spec = sys.argv[1] if len(sys.argv) > 1 else ""
    channel = open_channel()
    if channel is None:
        print("arbiter worker: fd 3 is not the arbiter's control channel; run it through the arbiter", file=sys.stderr)
        return 1
    warm_up()
    # What a standby holds before any preload is the runtime's: never reported, never preloaded.
    third_party = ThirdParty(os.getcwd(), runtime_modules=sys.modules)
    preset, preloaded = [], False
    boot = channel.read_message()
    while boot is not None and boot.get("type") != "boot":
        if boot.get("type") == "preload" and not preloaded:  # once: a second list would mix two
            preloaded = True
            try:
                answer, preset = preload(boot, third_party)
            except BaseException as error:  # a module that exits, a bug: this standby is spoilt
                channel.send({"type": "fatal", "error": describe_error(error)})
                traceback.print_exception(type(error), error, error.__traceback__, file=sys.stderr)
                return leave(1)
            channel.send(answer)
        boot = channel.read_message()  # nothing else makes sense before a boot
    if boot is None:
        return 0
    rt = Runtime(channel, app_spec or str(boot.get("app", "")), third_party)
    rt.boot = boot
    rt.cue = AcceptCue(held=bool(boot.get("acceptOnCue")))
    rt.stats = RequestStats(rt.send, int(boot.get("maxRequests") or 0))
    rt.heartbeat = Heartbeat(rt.send, rt.stats, int(boot.get("heartbeatMs") or 0))
    channel.start_reader(rt.on_message, rt.on_eof)  # a real thread: before any monkey patching
    rt.inspector.install_handler()
    os.environ["PORT"] = str(boot.get("port", ""))
    env = boot.get("env") or {}
    for name in preset:  # set by the preload from the env file, which may have changed since
        if name in env:
            os.environ[name] = env[name]
        else:
            os.environ.pop(name, None)
    for name, value in env.items():  # --env-file: the environment wins, as in Node
        os.environ.setdefault(name, value)
    arbiter._install(rt.shutdown_hooks.register, boot.get("id", 0), boot.get("generation", 0))
    rt.held = HeldReporter(rt.send, [0, 1, 2, CONTROL_FD] + list(boot.get("listenFds") or []), rt.inspector.ports)
    atexit.register(rt.held.at_exit)  # before the app's handlers: atexit runs it after all of them
    atexit.register(rt.heartbeat.final)
    atexit_hooks.install(rt.reporter)
    broken = compile_changed(boot.get("check") or [])
    if broken is not None:
        rt.boot_error(broken)
        return leave(APP_LOAD_ERROR)
    try:
        code = serve(rt, boot.get("python") or {})
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
    except AppLoadError as error:
        rt.boot_error(error)
        return leave(APP_LOAD_ERROR)
    except BaseException as error:
        rt.fatal(error)
        return leave(1)
    if code == 0 and not rt.aborted:
        wait_for_threads(rt.reporter, rt.send, atexit_hooks.pending)
        return 0
    return leave(code)


def config_failed(rt, error, prefix):
    """The gunicorn config is the app's as much as its code: a load error, said as such."""
    info = describe_error(error)
    info["message"] = prefix + info["message"]
    rt.boot_error(info)
    return APP_LOAD_ERROR


def warm_up():
    """Imports what every WSGI worker needs before the boot message is read. A standby waits
    here, so a reload pays for the app alone; gunicorn's own master has these loaded before it
    forks a worker, and imports them before gevent patches too, as here."""
    try:
        import gunicorn.app.base  # noqa: F401
        import gunicorn.glogging  # noqa: F401
        import gunicorn.sock  # noqa: F401
        import gunicorn.workers.sync  # noqa: F401
    except Exception:  # noqa: BLE001 - not installed, or broken: the boot says so, with the fix
        pass


def leave(code):
    """Exits now, after the atexit handlers: a worker that failed must not wait for the app's
    non-daemon threads (a thread started at import would hold a boot error open forever)."""
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def compile_changed(files):
    """Compiles the .py files this cycle changed, before anything of the app loads: a module the
    app imports only on first use (Django's views) would otherwise hide its syntax error behind a
    boot that went fine, and every request reaching it would fail. The first error, or None."""
    for path in files:
        if not path.endswith(".py"):
            continue
        try:
            with open(path, "rb") as source:
                compile(source.read(), path, "exec", dont_inherit=True)
        except SyntaxError as error:  # IndentationError and TabError are SyntaxErrors too
            return error
        except (OSError, ValueError):
            continue  # gone, or not text: the import (if any) says so
    return None


def apply_raw_env(raw_env):
    """gunicorn.conf.py's raw_env ("KEY=VALUE" strings): set before the app loads, over the
    environment, as gunicorn's master sets them before it forks its workers."""
    if isinstance(raw_env, str):
        raw_env = [raw_env]
    for pair in raw_env or []:
        name, sep, value = str(pair).partition("=")
        if sep and name:
            os.environ[name] = value


def _importable(name):
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def serve(rt, python):
    config_path = python.get("config")
    try:
        file_settings = read_settings(config_path)
    except Exception as error:
        return config_failed(rt, error, "%s could not be loaded: " % config_path)
    apply_raw_env(file_settings.get("raw_env"))
    worker_class = python.get("workerClass")
    configured_class = setting_name(file_settings.get("worker_class", "") or "")
    effective_class = worker_class or configured_class or "sync"
    kind = python.get("interface")
    gevent = "gevent" in effective_class.lower()
    # granian would call an RSGI app's __rsgi_init__/__rsgi_del__; uvicorn and gunicorn, named
    # explicitly, would not. Its ASGI or WSGI face is told apart as for any app.
    rt.rsgi_lifecycle = kind in (None, "rsgi")
    if kind == "rsgi":
        rt.rsgi_requested = True
        kind = None

    app = None
    if kind is None:
        if gevent:
            kind = "wsgi"  # the app must not be imported before gevent patches
        else:
            app = rt.load_app()
            kind = "asgi" if is_asgi(app) else "wsgi"

    if kind == "asgi":
        if not _importable("uvicorn"):
            rt.boot_error({"message": INSTALL["uvicorn"] % sys.executable})
            return APP_LOAD_ERROR
        if app is None:
            app = rt.load_app()
        from . import asgi_engine

        return asgi_engine.serve(rt, app)

    if not _importable("gunicorn"):
        rt.boot_error({"message": INSTALL["gunicorn"] % sys.executable})
        return APP_LOAD_ERROR
    if gevent:
        if not _importable("gevent"):
            rt.boot_error({"message": INSTALL["gevent"] % sys.executable})
            return APP_LOAD_ERROR
        # As early as possible (before gunicorn imports ssl): gunicorn's worker patches again,
        # to the same effect. Our lock, socket and reader thread predate this and stay real.
        from gevent import monkey

        monkey.patch_all()
        rt.inspector.gevent_patched()
        rt.dependencies.disable()  # what it imports, a standby would import unpatched (preload.py)
    try:
        cfg = make_config(file_settings)
    except Exception as error:
        return config_failed(rt, error, "%s: " % config_path)
    from . import wsgi_engine

    return wsgi_engine.serve(rt, cfg, file_settings, worker_class, python.get("threads"))
