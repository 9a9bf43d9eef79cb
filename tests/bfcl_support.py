"""What the BFCL tests need from outside: the real bfcl-eval wheel (cached or downloaded with pip) and the
interpreter of a venv holding bfcl-eval ($EDGEFC_BFCL_PYTHON); either missing skips locally and fails in CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from edgefc.bfcl.data import WHEEL_ENV, wheel_path
from edgefc.errors import EdgefcError

PYTHON_ENV = "EDGEFC_BFCL_PYTHON"


def real_wheel() -> Path:
    """The pinned wheel, ignoring $EDGEFC_BFCL_WHEEL; a failed download skips locally and fails in CI."""
    saved = os.environ.pop(WHEEL_ENV, None)
    try:
        return wheel_path()
    except EdgefcError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"the real bfcl-eval wheel is not available: {exc}")
    finally:
        if saved is not None:
            os.environ[WHEEL_ENV] = saved


def official_python() -> str:
    """The interpreter of the bfcl-eval venv; skip without one, or fail under CI."""
    python = os.environ.get(PYTHON_ENV)
    if not python:
        message = f"${PYTHON_ENV} is not set: point it at a venv's python with bfcl-eval==2026.3.23 installed"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return python
