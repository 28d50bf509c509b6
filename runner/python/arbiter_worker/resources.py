"""What the app holds open, read from /proc/self as the Node runtime does (runner/proc/
held-resources.ts): TCP connections by peer, with the service named for well-known ports, the
sockets it listens on itself, regular files, child processes, and the threads still alive.
Sent when a stop begins and after the atexit handlers, just before the process exits: what is
open then was never closed. The runtime's own descriptors (stdio, the control channel, the
arbiter's listening sockets) and threads are left out."""

import os
import threading

# The most of each kind a snapshot lists (events.ts HELD_LIST_LIMIT).
LIST_LIMIT = 50

SERVICES = {
    5432: "PostgreSQL",
    6379: "Redis",
    3306: "MySQL",
    27017: "MongoDB",
    9092: "Kafka",
    5672: "AMQP",
    11211: "Memcached",
}

ESTABLISHED = "01"
LISTEN = "0A"

# The runtime's own threads: the control channel's reader, the drain's reports, the hooks it
# runs with a timeout.
_OWN_THREADS = ("arbiter-", "on_shutdown ")


def _ipv4(hex_host):
    return ".".join(str(int(hex_host[i:i + 2], 16)) for i in range(6, -1, -2))


def _address(hex_address, v6):
    host, port = hex_address.split(":")
    port = int(port, 16)
    if not v6:
        return "%s:%d" % (_ipv4(host), port), port
    words = [host[i:i + 8] for i in range(0, 32, 8)]
    if words[0] == words[1] == "00000000" and words[2] == "FFFF0000":
        return "%s:%d" % (_ipv4(words[3]), port), port
    groups = []
    for word in words:
        swapped = "".join(reversed([word[i:i + 2] for i in range(0, 8, 2)]))
        groups += ["%x" % int(swapped[:4], 16), "%x" % int(swapped[4:], 16)]
    import ipaddress

    return "[%s]:%d" % (ipaddress.IPv6Address(":".join(groups)).compressed, port), port


def _tcp_entries():
    for table, v6 in (("tcp", False), ("tcp6", True)):
        try:
            with open("/proc/self/net/" + table) as source:
                lines = source.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10:
                continue
            local, local_port = _address(fields[1], v6)
            remote, remote_port = _address(fields[2], v6)
            yield fields[9], fields[3], local, local_port, remote, remote_port


def _children():
    children = []
    try:
        tasks = os.listdir("/proc/self/task")
    except OSError:
        return children
    for task in tasks:
        try:
            with open("/proc/self/task/%s/children" % task) as source:
                pids = source.read().split()
        except OSError:
            continue
        for pid in pids:
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as source:
                    command = " ".join(part.decode(errors="replace") for part in source.read().split(b"\0") if part)
            except OSError:
                continue
            children.append({"pid": int(pid), "command": command[:200]})
    return children


def _threads():
    main = threading.main_thread()
    current = threading.current_thread()
    return [
        {"name": thread.name, "daemon": thread.daemon}
        for thread in threading.enumerate()
        if thread is not main and thread is not current and not thread.name.startswith(_OWN_THREADS)
    ]


def held_now(ignore_fds, own_ports=()):
    """What this process holds open now, in the protocol's `held` shape."""
    held = {"connections": [], "listening": [], "files": [], "openFiles": 0, "children": [], "threads": _threads()}
    inodes = set()
    files = []
    try:
        fds = os.listdir("/proc/self/fd")
    except OSError as error:
        held["unreadable"] = error.__class__.__name__
        return held
    links = []
    for fd in fds:
        try:
            links.append((int(fd), os.readlink("/proc/self/fd/" + fd)))
        except OSError:
            continue  # closed meanwhile (the listdir's own fd among them)
    # The runtime's own sockets, under any fd: gunicorn serves on dups of the inherited ones.
    own = {target for fd, target in links if fd in ignore_fds}
    for fd, target in links:
        if fd in ignore_fds or target in own:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
        elif target.startswith("/") and not target.startswith(("/dev/", "/proc/")):
            files.append(target)
    peers = {}
    for inode, state, local, local_port, remote, remote_port in _tcp_entries():
        if inode not in inodes or local_port in own_ports:
            continue
        if state == LISTEN:
            held["listening"].append(local)
        elif state == ESTABLISHED:
            count, _ = peers.get(remote, (0, remote_port))
            peers[remote] = (count + 1, remote_port)
    for peer, (count, port) in peers.items():
        connection = {"peer": peer, "count": count}
        if port in SERVICES:
            connection["service"] = SERVICES[port]
        held["connections"].append(connection)
    held["openFiles"] = len(files)
    held["files"] = sorted(files)[:LIST_LIMIT]
    held["children"] = _children()[:LIST_LIMIT]
    return held


class HeldReporter:
    """Sends what the app holds: once as a stop begins, once at the very end of the process."""

    def __init__(self, send, ignore_fds, own_ports):
        self._send = send
        self._ignore = set(ignore_fds)
        self._own_ports = own_ports
        self._stop_sent = False

    def at_stop(self):
        if self._stop_sent:
            return
        self._stop_sent = True
        self._send({"type": "resources", "at": "stop", "held": held_now(self._ignore, self._own_ports())})

    def at_exit(self):
        """Registered before anything of the app, so atexit runs it after every handler of the app."""
        if self._stop_sent:
            self._send({"type": "resources", "at": "exit", "held": held_now(self._ignore, self._own_ports())})
