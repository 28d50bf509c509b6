"""Ad-hoc measure of warm Python standbys (issue 15), not part of `npm run bench`: on copies of
the real fixtures (test/fixtures/real-python-apps), the time from the boot message to `ready` and
to the first response, for a standby that waits cold and for one preloaded with the modules a
serving worker reported. Both kinds of standby are waiting for their boot when it is sent (each
first answers a preload: an empty one when cold), so neither pays process start. Interleaved
rounds, medians. Usage: /usr/bin/python3 bench/python-preload-boot.py [ROUNDS]"""

import json
import os
import queue
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
DRIVER = os.path.join(HERE, "..", "test", "support", "python-worker-driver.py")
FIXTURES = os.path.join(HERE, "..", "test", "fixtures", "real-python-apps")
APPS = [
    ("djsite", "djsite.wsgi", "/catalog/", [["manage.py", "migrate", "-v", "0"]]),
    ("fastapi-sql", "sql_app.main:app", "/openapi.json", []),
    ("flaskr", "flaskr:create_app()", "/", [["-m", "flask", "--app", "flaskr", "init-db"]]),
]


class Worker:
    def __init__(self, project, app, env):
        self.app = app
        self.child = subprocess.Popen(
            [sys.executable, DRIVER, project, app], cwd=project, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        self.messages = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.port = self.wait("driver.listening")["port"]

    def _read(self):
        for line in self.child.stdout:
            self.messages.put(json.loads(line))

    def wait(self, kind, within=30.0):
        deadline = time.monotonic() + within
        while True:
            message = self.messages.get(timeout=max(0.01, deadline - time.monotonic()))
            if message["type"] == kind:
                return message
            if message["type"] in ("boot-error", "fatal"):
                raise RuntimeError(message)

    def send(self, message):
        self.child.stdin.write(json.dumps(message) + "\n")
        self.child.stdin.flush()

    def boot(self):
        self.send({
            "type": "boot", "id": 1, "generation": 1, "app": self.app, "sourceMaps": False,
            "longLivedGraceMs": 1000, "port": str(self.port), "listenFds": [4], "maxRequests": 0,
            "heartbeatMs": 1000, "python": {},
        })

    def get(self, path):
        return urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.port, path), timeout=30).read()

    def close(self):
        self.child.stdin.close()
        self.child.wait(10)


def learn(project, app, path, env):
    """What a cold worker reports once it served one request (the follow-up, if any)."""
    worker = Worker(project, app, env)
    worker.boot()
    worker.wait("ready")
    worker.get(path)
    modules = worker.wait("dependencies")["modules"]
    try:
        modules = worker.wait("dependencies", within=3.0)["modules"]
    except queue.Empty:
        pass
    worker.close()
    return modules


def one_boot(project, app, path, env, modules):
    worker = Worker(project, app, env)
    worker.send({"type": "preload", "modules": modules})
    preloaded = worker.wait("preloaded")
    started = time.monotonic()
    worker.boot()
    worker.wait("ready")
    ready = time.monotonic()
    worker.get(path)
    served = time.monotonic()
    worker.close()
    return (ready - started) * 1000, (served - started) * 1000, preloaded


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    print("| app | modules | preloaded / skipped / failed | preload ms | boot→ready cold | warm "
          "| boot→first response cold | warm |")
    print("|---|---|---|---|---|---|---|---|")
    for name, app, path, setup in APPS:
        project = tempfile.mkdtemp(prefix="arbiter-bench-%s-" % name)
        try:
            shutil.copytree(os.path.join(FIXTURES, name), project, dirs_exist_ok=True)
            env = dict(os.environ, DATABASE_URL="sqlite:///%s/app.db" % project)
            for args in setup:
                subprocess.run([sys.executable] + args, cwd=project, env=env, check=True, capture_output=True)
            modules = learn(project, app, path, env)
            cold, warm, answer = [], [], None
            for _ in range(rounds):
                cold.append(one_boot(project, app, path, env, []))
                ready, served, answer = one_boot(project, app, path, env, modules)
                warm.append((ready, served, answer))
            med = lambda rows, i: round(statistics.median(row[i] for row in rows))  # noqa: E731
            preload_ms = round(statistics.median(row[2]["ms"] for row in warm))
            counts = "%d / %d / %d" % (answer["loaded"], answer["skipped"], len(answer.get("failed", [])))
            print("| %s | %d | %s | %d | %d | %d | %d | %d |" % (
                name, len(modules), counts, preload_ms, med(cold, 0), med(warm, 0), med(cold, 1), med(warm, 1)))
        finally:
            shutil.rmtree(project, ignore_errors=True)


if __name__ == "__main__":
    main()
