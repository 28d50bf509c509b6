"""What the app holds open: its descriptors from /proc/self, each socket's peer asked of the socket
itself (reading the kernel's TCP tables would take half a second on a machine with thousands of
sockets in TIME_WAIT); TCP connections by peer, with the service named for well-known ports, the
sockets it listens on itself, regular files, child processes, and the threads still alive.
Sent when a stop begins and after the atexit handlers, just before the process exits: what is
open then was never closed. The runtime's own descriptors (stdio, the control channel, the
arbiter's listening sockets) and threads are left out."""

import _socket
import os
import socket
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

# The runtime's own threads: the control channel's reader, the drain's reports, the hooks it
# runs with a timeout.
_OWN_THREADS = ("arbiter-", "on_shutdown ")


def _host_port(address):
    """(host, port[, flow, scope]) as "127.0.0.1:6379" or "[::1]:5432"; an IPv4 client of an IPv6
    socket reads as IPv4."""
    host, port = address[0], address[1]
    if host.startswith("::ffff:"):
        host = host[7:]
    return ("[%s]:%d" if ":" in host else "%s:%d") % (host, port), port


def _tcp_socket(fd):
    """What socket `fd` is, asked of the socket itself (no table of the whole machine to read):
    (kind, address, port, local port) with kind "listen" (address: its own) or "peer" (the
    other end's), or None (not TCP, not connected)."""
    try:
        # The C socket, not the socket module's class: gevent replaces that one, and a gevent
        # socket made on the reader thread disturbs the worker's own hub.
        sock = _socket.socket(fileno=os.dup(fd))
    except OSError:
        return None
    try:
        if sock.type != socket.SOCK_STREAM or sock.family not in (socket.AF_INET, socket.AF_INET6):
            return None
        local, local_port = _host_port(sock.getsockname())
        if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
            return "listen", local, local_port, local_port
        return ("peer",) + _host_port(sock.getpeername()) + (local_port,)
    except OSError:
        return None  # not connected (yet, or any more)
    finally:
        sock.close()


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
    socket_fds = []
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
            socket_fds.append(fd)
        elif target.startswith("/") and not target.startswith(("/dev/", "/proc/")):
            files.append(target)
    # The arbiter's ports and the debugger's: a connection a client made to them is not the app's.
    own_ports = set(own_ports)
    for fd in ignore_fds:
        found = _tcp_socket(fd) if fd > 2 else None
        if found is not None and found[0] == "listen":
            own_ports.add(found[3])
    peers = {}
    for fd in socket_fds:
        found = _tcp_socket(fd)
        if found is None or found[3] in own_ports:
            continue
        kind, address, port, _ = found
        if kind == "listen":
            held["listening"].append(address)
        else:
            count, _ = peers.get(address, (0, port))
            peers[address] = (count + 1, port)
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
