"""What every thread of the app is doing, for a worker about to be killed or aborted: run on the
control channel's reader thread, which runs while the app's threads are busy (a busy Python
thread still gives up the GIL every switch interval). The runtime's own threads and frames are
left out: they say how the worker waits, not why."""

import linecache
import os
import sys
import threading

# Frames in files under this folder (the runtime, its `arbiter` module, its entry) are the runtime's.
RUNTIME_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
# The runtime's own threads (the channel's reader, the drain reporter) are named so.
RUNTIME_THREAD = "arbiter-"
# At most this many frames of one thread, innermost first (STACK_FRAME_LIMIT in events.ts).
FRAME_LIMIT = 40


def thread_stacks():
    """Every app thread's stack, innermost frame first, the main thread marked."""
    threads = {thread.ident: thread for thread in threading.enumerate()}
    main = threading.main_thread().ident
    stacks = []
    for ident, frame in sys._current_frames().items():
        thread = threads.get(ident)
        name = thread.name if thread is not None else "thread %d" % ident
        if name.startswith(RUNTIME_THREAD) or ident == threading.get_ident():
            continue
        stack = {"name": name, "frames": frames_of(frame)}
        if thread is not None:
            stack["daemon"] = thread.daemon
        if ident == main:
            stack["main"] = True
        stacks.append(stack)
    stacks.sort(key=lambda stack: not stack.get("main", False))
    return stacks


def frames_of(frame):
    frames = []
    while frame is not None and len(frames) < FRAME_LIMIT:
        code = frame.f_code
        path = code.co_filename
        if not os.path.abspath(path).startswith(RUNTIME_DIR):
            entry = {"file": path, "line": frame.f_lineno or 0, "function": code.co_name}
            source = linecache.getline(path, frame.f_lineno or 0).strip()
            if source:
                entry["source"] = source[:200]
            frames.append(entry)
        frame = frame.f_back
    return frames


def stacks_message():
    """The answer to the arbiter's `stacks`."""
    try:
        return {"type": "stacks", "threads": thread_stacks()}
    except Exception as error:  # noqa: BLE001 - a frame that cannot be read must not cost the answer
        return {"type": "stacks", "threads": [], "unavailable": "could not read the stacks: %s" % error}
