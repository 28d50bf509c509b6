"""The Python worker runtime of Arbiter (see worker.py and runner/protocol/control.ts)."""


def main():
    from .main import main as run

    return run()
