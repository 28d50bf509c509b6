"""Loading the app's callable from `module:callable`, telling WSGI from ASGI, and describing
errors the way the arbiter shows them: a message, the user's part of the traceback, and the
file, line and column in the project where it went wrong."""

import ast
import asyncio
import importlib
import inspect
import os
import traceback

from .rsgi import RSGI_ONLY, is_rsgi

RUNTIME_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_IMPORTLIB = os.path.dirname(os.path.abspath(importlib.__file__)) + os.sep


class AppLoadError(Exception):
    """The app could not be loaded. `cause` is the user's exception, if there was one."""

    def __init__(self, message, cause=None, file=None):
        super().__init__(message)
        self.cause = cause
        self.file = file


def split_app(spec):
    """`module:expression` → (module, expression); a module alone means its `application`, as
    gunicorn reads it."""
    module, _, expression = spec.partition(":")
    return module, expression or "application"


def parse_expression(spec, expression):
    """gunicorn's grammar for what follows the colon: a name (`app`, `app.wsgi`), or a call of one
    with literal arguments (`create_app()`, `create_app('test', debug=True)`). Returns the dotted
    name and the call's (args, kwargs), or None when it is not a call. Raises AppLoadError."""
    try:
        node = ast.parse(expression, mode="eval").body
    except SyntaxError:
        raise AppLoadError("%s: '%s' is neither a name nor a call of one" % (spec, expression)) from None
    call = None
    if isinstance(node, ast.Call):
        try:
            args = [ast.literal_eval(arg) for arg in node.args]
            kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in node.keywords if kw.arg}
        except ValueError:
            raise AppLoadError(
                "%s: the factory's arguments must be literals (strings, numbers, ...), as gunicorn takes them"
                % spec
            ) from None
        call = (args, kwargs)
        node = node.func
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        raise AppLoadError("%s: '%s' is neither a name nor a call of one" % (spec, expression))
    parts.append(node.id)
    return ".".join(reversed(parts)), call


def import_app(spec):
    """The app `spec` names, in every form gunicorn takes: `module:callable`, `module:factory()`
    with literal arguments, or a module alone (its `application`). Raises AppLoadError."""
    module_name, expression = split_app(spec)
    attribute, call = parse_expression(spec, expression)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name and (module_name == error.name or module_name.startswith(error.name + ".")):
            raise AppLoadError(
                "No module named '%s' (APP is %s, looked in %s)" % (error.name, spec, os.getcwd()),
                file=None,
            ) from None
        raise AppLoadError(describe_message(error), cause=error) from error
    except Exception as error:  # SystemExit passes: a stop can arrive while the app loads
        raise AppLoadError(describe_message(error), cause=error) from error
    target = module
    for part in attribute.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            file = getattr(module, "__file__", None)
            where = display_path(file) if file else module_name
            raise AppLoadError("%s has no attribute '%s'" % (where, attribute), file=file) from None
    if call is not None:
        if not callable(target):
            kind = type(target).__name__
            raise AppLoadError("%s: %s is not a factory (it is a %s)" % (spec, attribute, kind))
        args, kwargs = call
        try:
            target = target(*args, **kwargs)
        except Exception as error:
            raise AppLoadError(describe_message(error), cause=error) from error
    if not callable(target) and is_rsgi(target):
        raise AppLoadError(RSGI_ONLY % spec, file=getattr(module, "__file__", None))
    if not callable(target):
        raise AppLoadError(
            "%s is not callable (it is a %s)" % (spec, type(target).__name__),
            file=getattr(module, "__file__", None),
        )
    return target


def is_asgi(app):
    """ASGI apps are coroutine functions or objects with a coroutine __call__ (as uvicorn checks)."""
    if inspect.isclass(app):
        return hasattr(app, "__await__")
    if asyncio.iscoroutinefunction(app):
        return True
    return asyncio.iscoroutinefunction(getattr(app, "__call__", None))


def display_path(path):
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return path
    return path if relative.startswith("..") else relative


def describe_message(error):
    if isinstance(error, SyntaxError):
        return "%s: %s" % (type(error).__name__, error.msg)
    text = str(error)
    return "%s: %s" % (type(error).__name__, text) if text else type(error).__name__


def _in_project(filename):
    if not filename or filename.startswith("<"):
        return False
    path = os.path.abspath(filename)
    if path.startswith(RUNTIME_DIR + os.sep):
        return False
    if "site-packages" in path or "dist-packages" in path:
        return False
    return path.startswith(os.getcwd() + os.sep)


def _user_frames(error):
    """The traceback from the first frame outside this runtime and importlib on."""
    frames = traceback.extract_tb(error.__traceback__)
    for index, frame in enumerate(frames):
        name = frame.filename
        if name.startswith("<frozen"):
            continue
        path = os.path.abspath(name)
        if path.startswith(RUNTIME_DIR + os.sep) or path.startswith(_IMPORTLIB):
            continue
        return [
            f
            for f in frames[index:]
            if not f.filename.startswith("<frozen")
            and not os.path.abspath(f.filename).startswith(RUNTIME_DIR + os.sep)
        ]
    return []


def describe_error(error):
    """An ErrorInfo (runner/protocol/events.ts) for an exception."""
    if isinstance(error, AppLoadError):
        if error.cause is not None:
            info = describe_error(error.cause)
            info["message"] = str(error)
            return info
        info = {"message": str(error)}
        if error.file:
            info["file"] = os.path.abspath(error.file)
        return info
    info = {"message": describe_message(error)}
    frames = _user_frames(error)
    lines = []
    if frames:
        lines.append("Traceback (most recent call last):\n")
        lines.extend(traceback.format_list(frames))
    lines.extend(traceback.format_exception_only(type(error), error))
    info["stack"] = "".join(lines).rstrip("\n")
    if isinstance(error, SyntaxError) and error.filename and not error.filename.startswith("<"):
        info["file"] = os.path.abspath(error.filename)
        if error.lineno:
            info["line"] = error.lineno
        if error.offset:
            info["column"] = error.offset
        return info
    for frame in reversed(frames):
        if _in_project(frame.filename):
            info["file"] = os.path.abspath(frame.filename)
            info["line"] = frame.lineno
            column = getattr(frame, "colno", None)
            if column is not None:
                info["column"] = column + 1
            break
    return info
