"""WSGI apps on one of gunicorn's worker classes (sync, gthread, gevent, or the config's own),
run in this process as gunicorn would run it in a forked child, on the arbiter's sockets.

What gunicorn's master does for a child is done here: post_fork, then init_process (which
installs the signal handlers, loads the app through our BaseApplication — after gevent's
patching —, calls post_worker_init and enters the run loop), then worker_exit. The run loop's
notify() carries the heartbeat. Stops arrive as signals to ourselves, so gunicorn's own handlers
run in the main thread: SIGTERM drains, SIGQUIT runs worker_int and leaves at once."""

import os
import signal
import types

from .app_loading import AppLoadError
from .gunicorn_config import WORKER_HOOKS, user_defines
from .heartbeat import tick_interval
from .listeners import identity, replace_listening_fds, unreachable_listener
from .request_stats import count_wsgi

# How often a worker waiting for its cue looks whether it was stopped instead (and beats).
CUE_POLL = 0.05
# The arbiter owns the graceful deadline; gunicorn's own would cut a drain at 30 s.
UNBOUNDED_GRACE = 24 * 3600


def _wrap_hooks(cfg, reporter):
    for name, arity in WORKER_HOOKS.items():
        if not user_defines(cfg, name):
            continue
        fn = cfg.settings[name].value

        # Same arity as the hook (gunicorn checks it when a value is set; this one is assigned).
        if arity == 1:

            def reported(worker, _fn=fn, _name=name):
                return reporter.call(_name, _fn, worker)

        else:

            def reported(server, worker, _fn=fn, _name=name):
                return reporter.call(_name, _fn, server, worker)

        reported.__qualname__ = getattr(fn, "__qualname__", name)
        cfg.settings[name].value = reported


def _worker_class(base, rt, listening, spare):
    class ArbiterWorker(base):
        def notify(self):
            super().notify()
            rt.tick()

        def init_signals(self):
            # gunicorn resets SIGUSR2 (among others) to SIG_DFL, which would end the process.
            rt.inspector.uninstall_handler()
            super().init_signals()
            rt.inspector.install_handler()
            rt.stop.engine_ready(self._arbiter_stop)

        def _arbiter_stop(self, mode):
            # At once, on the reader thread: gunicorn's loop would close its listeners only once it
            # notices the signal (gevent's after a sleep of up to a second), taking connections
            # from the shared socket until then.
            if spare is not None:
                fds = list(rt.boot["listenFds"]) + [s.fileno() for s in self.sockets]
                replace_listening_fds(fds, listening, spare)
                rt.closing.closed()
            if rt.held is not None:  # what it holds as its stop begins: before gunicorn's own stop runs
                rt.held.at_stop()
            os.kill(os.getpid(), signal.SIGTERM if mode == "graceful" else signal.SIGQUIT)

        def reuse_connection(self, conn, client):
            # gthread's: a kept-alive connection is readable again. After 'closed' that is a request
            # the old code must not answer (the new generation may have answered this client): the
            # connection is closed unanswered, and the client sends it again on a fresh one. On the
            # worker's own loop, as gthread's own version runs.
            if not rt.closing.done:
                return super().reuse_connection(conn, client)
            with self._lock:
                self.poller.unregister(client)
                try:
                    self._keep.remove(conn)
                except ValueError:
                    return  # gthread's own race: another path took it
            self.nr_conns -= 1
            conn.close()

        def handle_abort(self, sig, frame):
            rt.aborted = True
            rt.send({"type": "notice", "level": "warn", "message": "aborted by the arbiter (heartbeat timeout)"})
            super().handle_abort(sig, frame)

        def run(self):
            if not rt.stop.stopping:  # a stop that came while loading: never ready
                rt.send_ready()
            # Booted to accept on cue: loaded and listening, but the old generation may still
            # accept; the loop starts at the arbiter's 'accept' (or leaves at a stop meanwhile).
            while not rt.cue.wait(CUE_POLL):
                if not self.alive or rt.stop.stopping:
                    break
                rt.heartbeat.tick()
            return super().run()

    ArbiterWorker.__name__ = base.__name__
    ArbiterWorker.__qualname__ = base.__qualname__
    return ArbiterWorker


def serve(rt, cfg, file_settings, worker_class=None, threads=None):
    """Runs the app until it is stopped; returns the exit code."""
    from gunicorn import sock as gunicorn_sock
    from gunicorn.app.base import BaseApplication

    class ArbiterApplication(BaseApplication):
        rsgi = None  # an RSGI app's lifecycle, once loaded

        def load_default_config(self):
            self.cfg = cfg

        def load_config(self):
            pass

        def do_load_config(self):  # gunicorn's prints and exits; ours is loaded already
            self.load_default_config()

        def load(self):
            app = rt.load_app()
            self.rsgi = rt.rsgi_for(app)
            if self.rsgi is not None:  # a failure here is a boot failure, as under granian
                self.rsgi.start()
            return count_wsgi(app, rt.stats)

    cfg.set("bind", [])  # nothing is bound here: only the inherited sockets are served
    cfg.set("reload", False)  # the arbiter watches the files
    cfg.set("max_requests", 0)  # the arbiter recycles workers (retire)
    if worker_class:
        cfg.set("worker_class", worker_class)
    if threads:
        cfg.set("threads", threads)
    if "graceful_timeout" not in file_settings:
        cfg.set("graceful_timeout", UNBOUNDED_GRACE)
    if cfg.pythonpath:
        import sys

        for path in reversed(cfg.pythonpath.split(",")):
            if path and path not in sys.path:
                sys.path.insert(0, path)
    _wrap_hooks(cfg, rt.reporter)

    application = ArbiterApplication()
    log = cfg.logger_class(cfg)
    base = cfg.worker_class
    if hasattr(base, "check_config"):
        base.check_config(cfg, log)
    # Taken first: gunicorn closes the inherited numbers, and its worker's tmp file may take one.
    listening = {identity(fd) for fd in rt.boot["listenFds"]}
    try:
        spare = unreachable_listener()
    except OSError as error:  # then the engine's own loop closes its listeners, later
        spare = None
        notice = "a stop will not close the listeners at once: %s" % error
        rt.send({"type": "notice", "level": "warn", "message": notice})
    sockets = gunicorn_sock.create_sockets(cfg, log, fds=list(rt.boot["listenFds"]))
    worker = _worker_class(base, rt, listening, spare)(
        rt.boot["id"], os.getppid(), sockets, application, tick_interval(rt.boot["heartbeatMs"]), cfg, log
    )
    worker.pid = os.getpid()
    server = types.SimpleNamespace(cfg=cfg, log=log, pid=os.getppid(), app=application, LISTENERS=sockets)

    code = 0
    failed_to_boot = False
    try:
        cfg.post_fork(server, worker)
        worker.init_process()
    except SystemExit as exit:
        code = exit_code(exit)
        if not worker.booted and not rt.stop.stopping and not rt.aborted:
            rt.boot_error({"message": "the app exited while loading (SystemExit: %s)" % (exit.code,)})
            failed_to_boot, code = True, 4
    except AppLoadError as error:
        rt.boot_error(error)
        failed_to_boot, code = True, 4
    except Exception as error:
        if worker.booted:
            rt.fatal(error)
            code = 1
        else:
            rt.boot_error(error)
            failed_to_boot, code = True, 4
    finally:
        rt.stop.engine_done()
        # gunicorn's handlers would still act on a late TERM/INT/QUIT (worker_int, then
        # sys.exit inside a running hook): the stop is under way, a signal adds nothing.
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT):
            signal.signal(signum, signal.SIG_IGN)
        if not (rt.aborted or failed_to_boot):
            if application.rsgi is not None:  # once it stopped serving, as granian calls it
                application.rsgi.stop()
            rt.shutdown_hooks.run_all()
        try:
            worker.tmp.close()
            cfg.worker_exit(server, worker)
        except Exception:
            log.exception("exception in worker_exit")
    return code


def exit_code(exit):
    if exit.code is None:
        return 0
    return exit.code if isinstance(exit.code, int) else 1
