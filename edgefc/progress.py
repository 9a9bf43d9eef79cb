"""Progress bars for long work (downloads, conversion, benchmarks), quiet when output is not for a person."""

from __future__ import annotations

import os
import sys
from typing import Callable

from rich.console import Console
from rich.progress import (BarColumn, DownloadColumn, MofNCompleteColumn, Progress, TaskProgressColumn,
                           TextColumn, TimeRemainingColumn, TransferSpeedColumn)

StepProgress = Callable[[str, int, int], None]  # (step label, done, total): how pipelines report long work

# Progress and status go to stderr so that stdout stays clean for --json.
console = Console(stderr=True)


def progress_enabled() -> bool:
    """Bars only on a terminal, and never when EDGEFC_NO_PROGRESS is set (tests, CI logs)."""
    return sys.stderr.isatty() and not os.environ.get("EDGEFC_NO_PROGRESS")


def byte_progress() -> Progress:
    """A bar for byte streams: size done, speed and time left."""
    return Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                    TimeRemainingColumn(), console=console, disable=not progress_enabled(), transient=True)


def step_progress() -> Progress:
    """A bar for counted steps (tensors, entries): n/N and time left."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
                    TimeRemainingColumn(), console=console, disable=not progress_enabled(), transient=True)
