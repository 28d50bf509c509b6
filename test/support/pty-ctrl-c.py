"""Runs a command in a terminal of its own, as a user's shell would: a new session whose
controlling terminal is a pty, the command in its foreground process group. When the command's
output shows TEXT, presses Ctrl+C once (the terminal sends SIGINT to that whole group, as a real
one does), then passes the rest of the output on. Fds 3 and up pass through. Exits with the
command's code.

    python3 pty-ctrl-c.py TEXT -- COMMAND ARGS...
"""
import os
import pty
import sys

text = sys.argv[1].encode()
command = sys.argv[sys.argv.index("--") + 1 :]
pid, master = pty.fork()
if pid == 0:
    os.execvp(command[0], command)
seen = b""
pressed = False
while True:
    try:
        chunk = os.read(master, 65536)
    except OSError:  # EIO: the command and everything on the terminal are gone
        break
    if not chunk:
        break
    sys.stdout.buffer.write(chunk)
    sys.stdout.flush()
    seen += chunk
    if not pressed and text in seen:
        pressed = True
        os.write(master, b"\x03")
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status >> 8)
