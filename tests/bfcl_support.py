"""The real bfcl-eval wheel for the BFCL tests: cached or downloaded with pip; skipped offline unless in CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from edgefc.bench.bfcl.data import WHEEL_ENV, wheel_path
from edgefc.errors import EdgefcError


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
