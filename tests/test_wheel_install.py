"""A non-editable install (`pip install .`, a built wheel) ships what edgefc reads at run time: the probe set, and
the source files the verification cache hashes.

.ci/run builds the wheel, installs it into .venv-wheel and sets $EDGEFC_WHEEL_PYTHON; without it the test
skips locally, and fails under CI.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
CHECK = """
import json
from importlib import resources
import edgefc
from edgefc.export.source_cache import code_sha256
probes = json.loads(resources.files("edgefc.export").joinpath("probes.json").read_text(encoding="utf-8"))
print(json.dumps({"edgefc": edgefc.__file__, "probes": len(probes["probes"]), "code_sha256": code_sha256()}))
"""


def test_wheel_install_ships_the_probe_set() -> None:
    python = os.environ.get("EDGEFC_WHEEL_PYTHON")
    if not python:
        message = "$EDGEFC_WHEEL_PYTHON is not set: point it at a venv with edgefc installed from its wheel"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    proc = subprocess.run([python, "-c", CHECK], capture_output=True, text=True, cwd="/", timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = json.loads(proc.stdout.strip().splitlines()[-1])
    installed = Path(found["edgefc"]).resolve()
    assert installed.parent != (ROOT / "edgefc").resolve(), "edgefc came from the source tree, not the wheel"
    assert "site-packages" in installed.parts
    assert found["probes"] >= 10 and len(found["code_sha256"]) == 64
