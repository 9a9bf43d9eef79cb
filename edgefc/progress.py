"""Progress of long work (downloads, conversion, benchmarks, training) as plain reports: library code calls
`report(label, done, total)`; whoever installed a reporter (the CLI draws bars, see edgefc.cli.progress) hears it,
and nobody else draws anything."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator, Protocol

from rich.console import Console

StepProgress = Callable[[str, int, int], None]  # (step label, done, total): how a pipeline hears of its steps

# Status lines go to stderr so that stdout stays clean for --json.
console = Console(stderr=True)


class Reporter(Protocol):
    """Hears that `done` of `total` units of the work named `label` are done (`unit` "B" for bytes; `note` is
    the latest figure worth showing beside it, such as a reward)."""

    def __call__(self, label: str, done: int, total: int, *, unit: str = "", note: str = "") -> None: ...


def _nobody(label: str, done: int, total: int, *, unit: str = "", note: str = "") -> None:
    """The reporter when none is installed: library calls and tests run silent."""


_reporter: Reporter = _nobody


def report(label: str, done: int, total: int, *, unit: str = "", note: str = "") -> None:
    """Tell the installed reporter how far the work named `label` has come."""
    _reporter(label, done, total, unit=unit, note=note)


def installed() -> Reporter:
    """The reporter that hears reports now (a reporter that wraps it passes them on to it)."""
    return _reporter


@contextmanager
def reporting(reporter: Reporter) -> Iterator[None]:
    """Send the reports of the work inside to `reporter` instead of the one installed before."""
    global _reporter
    previous, _reporter = _reporter, reporter
    try:
        yield
    finally:
        _reporter = previous


def step_reporter(prefix: str) -> StepProgress:
    """A pipeline's step callback whose steps are reported under `prefix` (e.g. "gguf q4_0")."""
    return lambda label, done, total: report(f"{prefix} {label}", done, total)
