"""Trainer callbacks: the step log as JSON lines, held-out scoring that keeps the best checkpoint (and stops early),
and step reports for the CLI's progress bar. Each is a transformers TrainerCallback, so TRL's trainers take them as they are."""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import Any, Callable

from transformers import TrainerCallback

from edgefc.progress import report


# The phases a held-out line is tagged with; lines written before phases existed are GRPO's.
WARMUP_PHASE, GRPO_PHASE = "warmup", "grpo"


def phase_of(row: dict[str, Any]) -> str:
    """The phase of a held-out log line."""
    return row.get("phase", GRPO_PHASE)


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


class JsonlLog(TrainerCallback):
    """Appends every log TRL emits (rewards per component, frac_reward_zero_std, loss, ...) plus `extra()` (the
    batch metrics the rewards saw) to a JSON-lines file, one line per logging step, with the step and time."""

    def __init__(self, path: Path, extra: Callable[[], dict[str, Any]] = dict):
        self.path, self.extra, self.start = path, extra, time.time()

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if not logs or not state.is_world_process_zero:
            return
        row = {"step": state.global_step, "time_s": round(time.time() - self.start, 2),
               **{k: _finite(v) for k, v in {**logs, **self.extra()}.items()}}
        with self.path.open("a", encoding="utf-8") as sink:
            sink.write(json.dumps(row) + "\n")


class HeldoutSelector(TrainerCallback):
    """Every `every` steps (and at the end), scores the held-out split with `score(model)` and calls
    `keep(model, step)` on a new best; after `patience` scorings without one, stops training (0: never)."""

    def __init__(self, score: Callable[[Any], dict[str, Any]], keep: Callable[[Any, int], None], every: int,
                 patience: int, log: Path, phase: str = GRPO_PHASE):
        self.score, self.keep, self.every, self.patience, self.log = score, keep, every, patience, log
        self.phase = phase  # held-out lines are tagged with it: a stage's warm-up and GRPO select apart
        self.best: tuple[float, float] | None = None
        self.best_step: int | None = None
        self.stale = 0
        self.scored_at: int | None = None

    def restore(self, log: Path) -> None:
        """Take up the best score and staleness a resumed run had reached (from its log's held-out lines)."""
        for row in _rows(log):
            if "heldout" in row and phase_of(row) == self.phase:
                key = _key(row["heldout"])
                if row.get("best"):
                    self.best, self.best_step, self.stale = key, row["step"], 0
                else:
                    self.stale += 1

    def adopt(self, log: Path, phase: str, model: Any) -> bool:
        """Take the best score `phase` logged (the warm-up's) as `model`'s at step 0, keep `model` and log it: the
        model a stage starts from is that best, and scoring it again costs as much as ~40 warm-up steps here.
        False when the log holds no such score."""
        found = [row for row in _rows(log) if "heldout" in row and phase_of(row) == phase and row.get("best")]
        if not found:
            return False
        result = found[-1]["heldout"]
        self.best, self.best_step, self.stale, self.scored_at = _key(result), 0, 0, 0
        self.keep(model, 0)
        with self.log.open("a", encoding="utf-8") as sink:
            sink.write(json.dumps({"step": 0, "phase": self.phase, "heldout": result, "best": True,
                                   "from": phase}) + "\n")
        return True

    def evaluate(self, model: Any, step: int, control: Any = None) -> None:
        """Score `model` now, keep it on a new best, log the result (and stop training once patience runs out)."""
        result = self.score(model)
        self.scored_at = step
        key = _key(result)
        improved = self.best is None or key > self.best
        if improved:
            self.best, self.best_step, self.stale = key, step, 0
            self.keep(model, step)
        else:
            self.stale += 1
        with self.log.open("a", encoding="utf-8") as sink:
            sink.write(json.dumps({"step": step, "phase": self.phase, "heldout": result, "best": improved}) + "\n")
        if self.patience and self.stale >= self.patience and control is not None:
            control.should_training_stop = True

    def on_step_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if self.every and state.global_step % self.every == 0 and state.is_world_process_zero:
            self.evaluate(model, state.global_step, control)

    def on_train_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
        if self.scored_at != state.global_step and state.is_world_process_zero:
            self.evaluate(model, state.global_step, control)


def _rows(log: Path) -> list[dict[str, Any]]:
    """The lines of a run's JSONL log."""
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


def _key(result: dict[str, Any]) -> tuple[float, float]:
    """How held-out scores are ordered: accuracy, then tolerant accuracy."""
    return result["accuracy"], result["accuracy_tolerant"]


class StepReport(TrainerCallback):
    """Reports the trainer's steps with the latest total reward (transformers' own tqdm bar is turned off)."""

    def __init__(self, label: str):
        self.label, self.note = label, ""

    def on_train_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        report(self.label, state.global_step, state.max_steps)  # a resumed run starts part done

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        report(self.label, state.global_step, state.max_steps, note=self.note)

    def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if logs and "reward" in logs:
            self.note = f"reward {logs['reward']:.3f}"