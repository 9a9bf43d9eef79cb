"""A server under test as a subprocess: a free loopback port, start and wait until it answers, its memory and CPU
time, a clean stop on SIGINT; and a sampler of its RSS while a load runs."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from edgefc.bench.http_client import HOST, get_json
from edgefc.errors import EdgefcError, require

STARTUP_S = 300  # loading a model from a cold disk on a busy 2-core machine
STOP_S = 30  # the server's own grace for answers in flight is 3 s; the rest is freeing the model
RSS_EVERY_S = 0.5


def free_port(requested: int = 0) -> int:
    """`requested` if nothing listens there on loopback (0: any free port)."""
    with socket.socket() as sock:
        try:
            sock.bind((HOST, requested))
        except OSError:
            raise EdgefcError(f"port {requested} on {HOST} is in use; pick another with --port (0: a free one)"
                              ) from None
        return sock.getsockname()[1]


def edgefc_argv(model: Path, port: int, threads: int, ctx: int, queue: int | None = None) -> list[str]:
    """`edgefc serve` as the tests start it: this interpreter, `-m edgefc.cli` (queue None: its default)."""
    argv = [sys.executable, "-m", "edgefc.cli", "serve", str(model), "--host", HOST, "--port", str(port),
            "--threads", str(threads), "--ctx", str(ctx)]
    return argv + (["--queue", str(queue)] if queue is not None else [])


@dataclass
class Launched:
    """A server subprocess, ready on `port`, its output going to `log`."""

    name: str
    proc: subprocess.Popen
    port: int
    log: Path

    def rss_bytes(self) -> int:
        """Resident memory of the server and any children it started."""
        return sum(p.memory_info().rss for p in self._processes())

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the server and its children have used: set against the wall time, it tells
        a slow server from one that other processes kept off the CPUs."""
        return sum(t.user + t.system for t in (p.cpu_times() for p in self._processes()))

    def _processes(self) -> list[Any]:
        psutil = require("psutil", "bench")
        root = psutil.Process(self.proc.pid)
        return [root, *root.children(recursive=True)]

    def stop(self) -> dict[str, Any]:
        """SIGINT (Ctrl-C), then how it exited: clean when it stopped in time, with the status Ctrl-C gives
        (130, or death by SIGINT; 0 where a server swallows it) and no traceback in its output."""
        started = time.monotonic()
        self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(timeout=STOP_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return {"returncode": None, "seconds": STOP_S, "clean": False,
                    "problem": f"still running {STOP_S} s after SIGINT; killed"}
        seconds = time.monotonic() - started
        traceback = "Traceback (most recent call last)" in self.log.read_text(errors="replace")
        problem = ("a traceback in its output" if traceback else
                   "" if code in (0, 130, -signal.SIGINT) else f"exit status {code}")
        return {"returncode": code, "seconds": seconds, "clean": not problem, "problem": problem}


def _sigint_default() -> None:
    """In the child: Ctrl-C as in a terminal (a runner started in the background passes SIGINT on ignored)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextlib.contextmanager
def launched(name: str, argv: list[str], port: int, ready_path: str, log: Path) -> Iterator[Launched]:
    """Start a server, wait until GET `ready_path` answers 200, yield it; stop it on the way out if still up."""
    with log.open("wb") as sink:
        proc = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"}, preexec_fn=_sigint_default)
        try:
            _wait_ready(name, proc, port, ready_path, log)
            yield Launched(name, proc, port, log)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    proc.wait(timeout=STOP_S)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def _wait_ready(name: str, proc: subprocess.Popen, port: int, path: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_S
    while True:
        if proc.poll() is not None:
            raise EdgefcError(f"{name} exited with status {proc.returncode} before it was ready: {_last_line(log)}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            if get_json(port, path, timeout=5)[0] == 200:
                return
        if time.monotonic() > deadline:
            raise EdgefcError(f"{name} was not ready within {STARTUP_S} s; see {log}")
        time.sleep(0.2)


def _last_line(log: Path) -> str:
    lines = [line.strip() for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else "(no output)"


class RssSampler:
    """Reads a server's RSS and CPU time every RSS_EVERY_S in a thread, with the answers so far and the machine's
    1-minute load average."""

    def __init__(self, server: Launched):
        self.server, self.samples = server, []  # (seconds, RSS MiB, server CPU s, answered, load average)
        self.answered = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._started = time.perf_counter()

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(RSS_EVERY_S):
            with contextlib.suppress(Exception):  # the process may be gone between two reads; the end says why
                self.samples.append((round(time.perf_counter() - self._started, 2), mib(self.server.rss_bytes()),
                                     round(self.server.cpu_seconds(), 2), self.answered, os.getloadavg()[0]))


def mib(n: int) -> float:
    return round(n / 2**20, 1)
