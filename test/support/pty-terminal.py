"""Runs a command with a real terminal (a pty) as its stdout and stderr, shows what it prints
until it says `serving`, then hangs the terminal up (closes the pty's master: the command's
writes fail with EIO from then on). Fds 3 and up pass through. Exits with the command's code."""
import os
import subprocess
import sys

master, slave = os.openpty()
child = subprocess.Popen(
    sys.argv[1:], stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, pass_fds=(3,)
)
os.close(slave)
seen = b""
while b"serving" not in seen:
    chunk = os.read(master, 65536)
    if not chunk:
        break
    seen += chunk
sys.stdout.buffer.write(seen)
sys.stdout.flush()
os.close(master)
code = child.wait()
# Killed by a signal: as a shell says it (128 + the signal).
sys.exit(128 - code if code < 0 else code)
