"""One BFCL multi-turn entry's simulated APIs in a worker process (worker.py), driven over JSON lines.

Each call has a time limit; past it the worker is killed and the call's result says so. The next request starts
a fresh worker and replays the calls that completed, so the state carries on as if the stopped call had failed.
Open one executor for the model's calls and another for the ground truth to compare their states turn by turn.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from edgefc.bfcl.multiturn import worker
from edgefc.bfcl.multiturn.apis import PACKAGE, api_root
from edgefc.bfcl.multiturn.calls import Call, parse_call
from edgefc.bfcl.multiturn.data import API_CLASSES, MultiTurnEntry
from edgefc.errors import EdgefcError

CALL_TIMEOUT_S = 10.0  # the APIs answer in milliseconds; a call past this is a runaway
START_TIMEOUT_S = 120.0  # importing the APIs (long_context.py is 190 kB) on a busy machine


class Executor:
    """The entry's API instances, built from its initial_config, in their own process."""

    def __init__(self, entry: MultiTurnEntry, *, timeout_s: float = CALL_TIMEOUT_S,
                 wheel: str | Path | None = None) -> None:
        self._init = {"op": "init", "root": str(api_root(wheel)), "package": PACKAGE,
                      "classes": {name: API_CLASSES[name][0] for name in entry.involved_classes},
                      "initial_config": entry.initial_config, "long_context": entry.long_context}
        self.timeout_s = timeout_s
        self._done: list[Call] = []  # calls that completed, replayed into a fresh worker after a timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._buffer = b""

    def __enter__(self) -> Executor:
        self._start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    @property
    def pid(self) -> int | None:
        """The worker's process id (None when none is running)."""
        return self._process.pid if self._process else None

    def execute(self, name: str, arguments: dict[str, Any]) -> str:
        """Call the API method `name` with keyword arguments; the result text, or bfcl-eval's error text."""
        return self.execute_call(Call(name, [], dict(arguments)))

    def execute_call(self, call: Call) -> str:
        """Run one call (positional arguments too, as ground-truth strings have them); its result text."""
        self._start()
        reply = self._ask({"op": "call", "name": call.name, "args": call.args, "kwargs": call.kwargs},
                          self.timeout_s)
        if reply is None:
            return f"{worker.ERROR_PREFIX}the call took longer than {self.timeout_s:g} s and was stopped"
        self._done.append(call)
        return reply["result"]

    def run(self, calls: list[str]) -> list[str]:
        """Run BFCL call strings (a turn of the ground truth) in order; their result texts."""
        return [self.execute_call(parse_call(text)) for text in calls]

    def state(self) -> dict[str, dict[str, Any]]:
        """Every instance's public attributes as JSON-able data (see worker.encode), keyed by class name."""
        self._start()
        reply = self._ask({"op": "state"}, self.timeout_s)
        if reply is None:
            raise RuntimeError(f"the BFCL API worker took longer than {self.timeout_s:g} s to report its state")
        return reply["state"]

    def close(self) -> None:
        """Stop the worker: close its input so it exits, kill it if it does not."""
        process, self._process = self._process, None
        if process is None:
            return
        process.stdin.close()
        try:
            process.wait(timeout=self.timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()

    def _start(self) -> None:
        """Start a worker if none runs: build the instances, then replay the completed calls."""
        if self._process is not None:
            return
        self._process = subprocess.Popen([sys.executable, "-I", worker.__file__], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        self._buffer = b""
        if self._ask(self._init, START_TIMEOUT_S) is None:
            raise RuntimeError(f"the BFCL API worker did not start within {START_TIMEOUT_S:g} s")
        for call in self._done:
            if self._ask({"op": "call", "name": call.name, "args": call.args, "kwargs": call.kwargs},
                         self.timeout_s) is None:
                raise RuntimeError(f"replaying {call.name} timed out, though it completed before")

    def _ask(self, request: dict[str, Any], timeout_s: float) -> dict[str, Any] | None:
        """Send one request and wait for its reply; None (and the worker killed) past timeout_s."""
        assert self._process is not None
        self._process.stdin.write((json.dumps(request) + "\n").encode("utf-8"))
        self._process.stdin.flush()
        line = self._read_line(time.monotonic() + timeout_s)
        if line is None:
            self._kill()
            return None
        reply = json.loads(line)
        if "missing" in reply:
            raise EdgefcError(f"the BFCL APIs need the Python package {reply['missing']}; install it")
        if "bug" in reply:
            raise RuntimeError(f"the BFCL API worker failed:\n{reply['bug']}")
        return reply

    def _read_line(self, deadline: float) -> bytes | None:
        """The worker's next reply line, or None at the deadline."""
        assert self._process is not None
        fd = self._process.stdout.fileno()
        with selectors.DefaultSelector() as selector:
            selector.register(fd, selectors.EVENT_READ)
            while b"\n" not in self._buffer:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    return None
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise RuntimeError(f"the BFCL API worker exited (code {self._process.wait()})")
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return line

    def _kill(self) -> None:
        """End a worker that overran: it holds nothing worth keeping."""
        process, self._process = self._process, None
        assert process is not None
        process.kill()
        process.wait()
        process.stdin.close()
        process.stdout.close()
