"""BFCL's own harness, unchanged, against `edgefc serve` on the embedded model: `bfcl generate --skip-server-setup`
then `bfcl evaluate`, in CI's bfcl-eval venv, on a small fixed set of entries; its scores against edgefc's.

Three runs answer the same entries, all decoded freely (BFCL's harness talks to /v1/completions, which carries no
grammar):
- the harness, with its own prompt (its Qwen FC handler's text) sent to `edgefc serve`, scored by `bfcl evaluate`;
- `edgefc bench --endpoint` against that server, and `edgefc bench` on the same file locally, both with edgefc's
  prompt (edgefc/bfcl/prompts.py documents how it differs from the handler's) and edgefc's scorer.
The test holds that the served answers are the local ones, that BFCL's verdict on each harness answer is the one
edgefc's scorer gives it, and that the three runs score the same per category.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from edgefc.bfcl import checker
from edgefc.bfcl.data import Entry, load_category
from edgefc.bfcl.decode import official_decode
from edgefc.bench.runner import BenchConfig, read_jsonl, run
from edgefc.models import DEFAULT_MODEL, resolve
from edgefc.models.materialize import cached_hf
from tests.bfcl_support import official_python

pytestmark = pytest.mark.slow

HANDLER = "Qwen/Qwen3-1.7B-FC"  # the registry key of the reference model: its handler writes the prompt
CATEGORIES = ["simple_python", "multiple", "live_simple", "irrelevance"]
PER_CATEGORY = 2
THREADS = 2


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, proc: subprocess.Popen[str], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"edgefc serve exited: {proc.stderr.read() if proc.stderr else ''}"
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError("edgefc serve did not become healthy")


def _bfcl(python: str, root: Path, port: int, *args: str, timeout_s: float) -> None:
    env = {**os.environ, "BFCL_PROJECT_ROOT": str(root), "LOCAL_SERVER_ENDPOINT": "127.0.0.1",
           "LOCAL_SERVER_PORT": str(port), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    bfcl = Path(python).with_name("bfcl")
    proc = subprocess.run([str(bfcl), *args], env=env, cwd=root, capture_output=True, text=True, timeout=timeout_s)
    assert proc.returncode == 0, f"bfcl {args[0]} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


def _harness_rows(root: Path) -> tuple[dict[str, str], dict[str, bool]]:
    """The harness's raw answer per entry id (result/), and bfcl evaluate's verdict per id (score/: the first line
    of each file is the summary, every later line one failed entry)."""
    texts = {}
    for path in (root / "result").rglob("*_result.json"):
        for row in read_jsonl(path):
            texts[row["id"]] = row["result"]
    failed, scored = set(), set()
    for path in (root / "score").rglob("*_score.json"):
        lines = list(read_jsonl(path))
        category = path.name.removeprefix("BFCL_v4_").removesuffix("_score.json")
        scored.add(category)
        failed.update(line["id"] for line in lines[1:])
    assert scored == set(CATEGORIES), f"bfcl evaluate scored {sorted(scored)}"
    return texts, {i: i not in failed for i in texts}


def _by_category(entries: dict[str, Entry], verdicts: dict[str, bool]) -> dict[str, int]:
    return {c: sum(v for i, v in verdicts.items() if entries[i].category == c) for c in CATEGORIES}


def _bench(out: Path, **options: Any) -> dict[str, dict[str, Any]]:
    cfg = BenchConfig(models=[DEFAULT_MODEL], suite="bfcl", categories=CATEGORIES, limit=PER_CATEGORY, threads=THREADS,
                      out=out, max_tokens=512, constrain="off", **options)
    run(cfg)
    return {r["id"]: r for r in read_jsonl(out / "results.jsonl")}


def test_bfcl_harness_against_edgefc_serve(tmp_path: Path) -> None:
    python = official_python()
    gguf = resolve(DEFAULT_MODEL).path
    tokenizer_dir = cached_hf(gguf, weights=False)  # the harness reads only config and tokenizer from it
    entries = {e.id: e for c in CATEGORIES for e in load_category(c, limit=PER_CATEGORY, seed=0)}

    local = _bench(tmp_path / "local")
    assert set(local) == set(entries)

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([sys.executable, "-m", "edgefc.cli", "serve", str(gguf), "--port", str(port),
                               "--threads", str(THREADS)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True)
    root = tmp_path / "bfcl"
    root.mkdir()
    try:
        _wait_healthy(url, server)
        remote = _bench(tmp_path / "remote", endpoint=f"{url}/v1")
        ids: dict[str, list[str]] = {c: [] for c in CATEGORIES}
        for entry in entries.values():
            ids[entry.category].append(entry.id)
        (root / "test_case_ids_to_generate.json").write_text(json.dumps(ids))
        _bfcl(python, root, port, "generate", "--model", HANDLER, "--run-ids", "--skip-server-setup",
              "--local-model-path", str(tokenizer_dir), timeout_s=1200)
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=60) in (0, 130), "edgefc serve did not shut down cleanly"
    _bfcl(python, root, port, "evaluate", "--model", HANDLER, "--test-category", ",".join(CATEGORIES),
          "--partial-eval", timeout_s=600)
    texts, official = _harness_rows(root)
    assert set(texts) == set(entries), "the harness did not answer every entry"

    # The served model answers as the local file does, token for token, under edgefc's prompt.
    for i in entries:
        assert remote[i]["text"] == local[i]["text"], i
        assert remote[i]["valid"] == local[i]["valid"], i

    # BFCL's verdict on each harness answer is edgefc's scorer's on the same text.
    ours = {i: checker.check(entries[i], official_decode(texts[i])).valid for i in entries}
    assert ours == official

    # The three runs score alike per category (the prompts differ as edgefc/bfcl/prompts.py says; on this model,
    # decoded freely, neither prompt brings a call in BFCL's format).
    scores = {"bfcl harness": _by_category(entries, official),
              "edgefc bench --endpoint": _by_category(entries, {i: r["valid"] for i, r in remote.items()}),
              "edgefc bench": _by_category(entries, {i: r["valid"] for i, r in local.items()})}
    print(json.dumps(scores))
    assert scores["bfcl harness"] == scores["edgefc bench --endpoint"] == scores["edgefc bench"], scores
