"""gunicorn.conf.py: read the way gunicorn reads it (the file runs as the module `__config__`;
every top-level name that is a gunicorn setting is one), applied to a real gunicorn Config when
gunicorn is importable."""

import importlib.util
import sys

# The hooks gunicorn calls in a worker process, with their arity.
WORKER_HOOKS = {"post_fork": 2, "post_worker_init": 1, "worker_int": 1, "worker_abort": 1, "worker_exit": 2}
# The hooks gunicorn calls in its master; ours is Node, so master_hooks.py runs them one by one.
SERVER_HOOKS = {
    "on_starting": 1,
    "on_reload": 1,
    "when_ready": 1,
    "pre_fork": 2,
    "child_exit": 2,
    "nworkers_changed": 3,
    "on_exit": 1,
}


def read_settings(path):
    """The file's top-level names. Its exceptions propagate (the caller reports them)."""
    if not path:
        return {}
    spec = importlib.util.spec_from_file_location("__config__", path)
    if spec is None or spec.loader is None:
        raise ImportError("cannot load the gunicorn config %s (not a Python file?)" % path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["__config__"] = module
    spec.loader.exec_module(module)
    return {k: v for k, v in vars(module).items() if not k.startswith("__")}


def make_config(settings):
    """A gunicorn Config with the file's settings applied (names it does not know skipped, as gunicorn does)."""
    from gunicorn.config import Config

    cfg = Config(prog="arbiter")
    for name, value in settings.items():
        if name in cfg.settings:
            try:
                cfg.set(name, value)
            except Exception as error:
                raise ValueError("invalid value for %s in the gunicorn config: %s" % (name, error)) from error
    return cfg


def user_defines(cfg, name):
    """Whether the config sets hook `name` (gunicorn's defaults are no-ops, not worth reporting)."""
    setting = cfg.settings[name]
    return setting.value is not setting.default


def setting_name(value):
    """worker_class may be a class or a string."""
    if isinstance(value, str):
        return value
    return "%s.%s" % (getattr(value, "__module__", ""), getattr(value, "__qualname__", ""))
