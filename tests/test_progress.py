"""Progress as reports: library code reports, the reporter installed hears, the CLI's bars draw."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edgefc.cli.progress import Bars
from edgefc.export.tune.run import WallClock, _Whole
from edgefc.progress import installed, report, reporting, step_reporter


class Heard:
    """A reporter that keeps every report."""

    def __init__(self) -> None:
        self.reports: list[tuple[str, int, int, dict[str, Any]]] = []

    def __call__(self, label: str, done: int, total: int, **extra: Any) -> None:
        self.reports.append((label, done, total, extra))


def test_reports_reach_the_reporter_installed_and_nobody_after() -> None:
    report("nobody listens", 1, 2)  # no reporter installed: silent
    outer, inner = Heard(), Heard()
    with reporting(outer):
        report("a", 1, 2)
        with reporting(inner):
            assert installed() is inner
            step_reporter("gguf")("tensors", 3, 4)
        report("a", 2, 2, note="done")
    assert installed() is not outer
    assert [r[:3] for r in inner.reports] == [("gguf tensors", 3, 4)]
    assert outer.reports == [("a", 1, 2, {"unit": "", "note": ""}), ("a", 2, 2, {"unit": "", "note": "done"})]


def test_bars_keep_one_bar_per_label_until_its_work_is_done() -> None:
    bars = Bars()  # not a terminal here: the display is off, the bookkeeping is the same
    bars("fetching model.gguf", 10, 100, unit="B", note="part 1/2")
    bars("verifying q4_0", 1, 3)
    tasks = {t.fields["unit"]: t for t in bars.progress.tasks}
    assert tasks["B"].description == "fetching model.gguf · part 1/2" and tasks["B"].completed == 10
    assert tasks[""].description == "verifying q4_0"
    bars("verifying q4_0", 3, 3)
    assert [t.description for t in bars.progress.tasks] == ["fetching model.gguf · part 1/2"]
    bars("fetching model.gguf", 100, 100, unit="B")
    assert not bars.progress.tasks


def test_tune_counts_exports_and_the_bench_into_one_whole(tmp_path: Path) -> None:
    heard = Heard()
    with reporting(heard):
        whole = _Whole("tune m", 5, WallClock(tmp_path))
        whole.exports_done(1)
        with reporting(whole):
            report("BFCL a", 0, 2)
            report("BFCL a", 1, 2)
            report("BFCL b", 2, 2)
    assert [r[1] for r in heard.reports if r[0] == "tune m"] == [1, 1, 2, 4]  # of 5: one export, 3 bench rows
    assert ("BFCL b", 2, 2) in [r[:3] for r in heard.reports]  # the bench's own reports are passed on
