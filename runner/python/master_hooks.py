"""Runs one of gunicorn's *server* hooks from a gunicorn.conf.py, for the arbiter (which is Node
and so cannot call it) at the moment gunicorn's master would:

    python3 master_hooks.py CONFIG --describe           JSON: {"hooks": [the server hooks CONFIG
                                                        defines], "settings": {its other settings}}
    python3 master_hooks.py CONFIG HOOK [JSON_ARGS]     runs HOOK

JSON_ARGS is the arbiter hook's argument list: [arbiter info {pid, app, workers, listeners},
then {id, generation, pid?, code?...} for pre_fork and child_exit, {from, to} for
nworkers_changed]. Exit 0: ran (or --list), 3: the config does not define HOOK, 1: it raised
(the traceback on stderr) or the config could not be loaded.
"""

import contextlib
import json
import logging
import os
import sys
import traceback
import types

NOT_DEFINED = 3


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    config_file, hook = argv[0], argv[1]
    sys.path.insert(1, os.getcwd())  # after this directory: the config may import the project
    from arbiter_worker.gunicorn_config import SERVER_HOOKS, make_config, read_settings, user_defines

    try:
        # A config that prints while it loads must not garble --list's JSON on stdout.
        with contextlib.redirect_stdout(sys.stderr):
            settings = read_settings(config_file)
        try:
            cfg = make_config(settings)
            defined = lambda name: name in cfg.settings and user_defines(cfg, name)  # noqa: E731
            get = lambda name: cfg.settings[name].get()  # noqa: E731
        except ImportError:  # no gunicorn: the file's own names
            cfg = types.SimpleNamespace(**settings)
            defined = lambda name: callable(settings.get(name))  # noqa: E731
            get = settings.get
    except Exception:
        traceback.print_exc()
        return 1
    if hook == "--describe":
        described = {
            "hooks": [name for name in SERVER_HOOKS if defined(name)],
            # Every setting the file gives, as gunicorn reads it (validated, normalized), for the
            # arbiter to apply or refuse; functions (hooks) are not settings to move.
            "settings": {
                name: _plain(get(name))
                for name in settings
                if not callable(settings[name]) and (not hasattr(cfg, "settings") or name in cfg.settings)
            },
        }
        print(json.dumps(described))
        return 0
    if not defined(hook):
        return NOT_DEFINED

    args = json.loads(argv[2]) if len(argv) > 2 else []
    info = args[0] if args and isinstance(args[0], dict) else {}
    extra = args[1] if len(args) > 1 else None
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    server = types.SimpleNamespace(
        cfg=cfg,
        log=logging.getLogger("gunicorn.error"),
        pid=info.get("pid", os.getppid()),
        num_workers=info.get("workers"),
        app=types.SimpleNamespace(cfg=cfg),
        address=info.get("listeners", []),
    )
    if hook in ("pre_fork", "child_exit"):
        ref = extra if isinstance(extra, dict) else {}
        worker = types.SimpleNamespace(
            pid=ref.get("pid"),
            age=ref.get("id"),
            id=ref.get("id"),
            generation=ref.get("generation"),
            exitcode=ref.get("code"),
            info=ref,
        )
        call = (server, worker)
    elif hook == "nworkers_changed":
        if isinstance(extra, dict):
            call = (server, extra.get("to"), extra.get("from"))
        else:
            call = (server, extra, args[2] if len(args) > 2 else None)
    else:
        call = (server,)
    try:
        get(hook)(*call)
    except Exception:
        traceback.print_exc()
        return 1
    return 0


def _plain(value):
    """A setting's value as JSON can carry it (a worker class as its dotted name)."""
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _plain(item) for key, item in value.items()}
    return "%s.%s" % (getattr(value, "__module__", ""), getattr(value, "__qualname__", repr(value)))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
