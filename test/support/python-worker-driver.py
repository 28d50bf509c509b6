"""Runs Arbiter's Python worker runtime as the arbiter starts it (worker-process.ts spawnWorkerChild:
`python3 -u worker.py APP` in the project, its control channel on fd 3 as a Unix socketpair, a
listening socket on fd 4), without the arbiter: for tests of the runtime's own side of the
protocol. Usage: python3 python-worker-driver.py PROJECT_DIR APP.

Its first stdout line is {"type": "driver.listening", "port": N}; every line it reads on stdin
goes to the worker's channel, every line the worker sends comes out on stdout, and the worker's
exit is {"type": "driver.exited", "code": N}. At stdin's end it closes the channel, which ends
the worker (an orphaned worker leaves by itself), and exits once the worker has."""

import fcntl
import json
import os
import socket
import subprocess
import sys
import threading

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "runner", "python", "worker.py")


def high(fd):
    """A copy of fd above the numbers the child gets, so the dup2s below cannot clobber it."""
    return fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)


def main():
    project, app = sys.argv[1], sys.argv[2]
    ours, theirs = socket.socketpair()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    channel_fd, listen_fd = high(theirs.fileno()), high(listener.fileno())

    def place_fds():
        os.dup2(channel_fd, 3)
        os.dup2(listen_fd, 4)

    child = subprocess.Popen(
        [sys.executable, "-u", os.path.abspath(WORKER), app],
        cwd=project,
        stdin=subprocess.DEVNULL,
        stdout=sys.stderr,  # the app's output: apart from the messages
        pass_fds=(3, 4),
        preexec_fn=place_fds,
    )
    theirs.close()
    os.close(channel_fd)
    os.close(listen_fd)
    out = sys.stdout
    print(json.dumps({"type": "driver.listening", "port": listener.getsockname()[1]}), file=out, flush=True)

    def relay_worker():
        with ours.makefile("rb") as lines:
            for line in lines:
                out.write(line.decode())
                out.flush()

    reader = threading.Thread(target=relay_worker, daemon=True)
    reader.start()
    for line in sys.stdin:
        try:
            ours.sendall(line.encode())
        except OSError:
            break
    ours.shutdown(socket.SHUT_RDWR)
    code = child.wait()
    reader.join(1)
    print(json.dumps({"type": "driver.exited", "code": code}), file=out, flush=True)


if __name__ == "__main__":
    main()
