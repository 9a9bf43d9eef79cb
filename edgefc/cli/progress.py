"""The bars the CLI draws from the progress reports of the work it runs (see edgefc.progress): on stderr, only
for a person at a terminal, one bar per label while its work goes on."""

from __future__ import annotations

import os
import sys
import threading
from contextlib import contextmanager
from typing import Any, Iterator

from rich.progress import (BarColumn, DownloadColumn, MofNCompleteColumn, Progress, ProgressColumn,
                           TaskProgressColumn, TextColumn, TimeRemainingColumn, TransferSpeedColumn)
from rich.text import Text

from edgefc.progress import console, reporting


def progress_enabled() -> bool:
    """Bars only on a terminal, and never when EDGEFC_NO_PROGRESS is set (tests, CI logs)."""
    return sys.stderr.isatty() and not os.environ.get("EDGEFC_NO_PROGRESS")


class _Amount(ProgressColumn):
    """n/N for counted steps; size done and speed for bytes."""

    columns = {"B": (DownloadColumn(), TransferSpeedColumn()), "": (MofNCompleteColumn(),)}

    def render(self, task: Any) -> Text:
        return Text(" ").join(column.render(task) for column in self.columns[task.fields.get("unit", "")])


class Bars:
    """A reporter that keeps one bar per label, drops it when its work is done, and draws only while some work
    goes on (an interactive prompt never shares the terminal with a live display). Writes to stdout and stderr
    are left where they go: --json output stays on stdout, and third-party chatter that an export sends to its
    log (export.quiet.chatter_to) stays there."""

    def __init__(self) -> None:
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), _Amount(), TaskProgressColumn(),
                                 TimeRemainingColumn(), console=console, disable=not progress_enabled(),
                                 transient=True, redirect_stdout=False, redirect_stderr=False)
        self._tasks: dict[str, Any] = {}
        self._lock = threading.Lock()  # the serve load reports from its client threads

    def __call__(self, label: str, done: int, total: int, *, unit: str = "", note: str = "") -> None:
        with self._lock:
            if label not in self._tasks:
                if not self._tasks:
                    self.progress.start()
                self._tasks[label] = self.progress.add_task(label, total=total, unit=unit)
            task = self._tasks[label]
            self.progress.update(task, completed=done, total=total,
                                 description=f"{label} · {note}" if note else label)
            if total and done >= total:
                self.progress.remove_task(task)
                del self._tasks[label]
                if not self._tasks:
                    self.progress.stop()


@contextmanager
def bars() -> Iterator[None]:
    """Draw the progress reported by the work inside (the whole of an edgefc command)."""
    display = Bars()
    try:
        with reporting(display):
            yield
    finally:
        display.progress.stop()
