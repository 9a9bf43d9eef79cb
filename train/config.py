"""Recipes: the two GRPO stages of a training run as one YAML file, read into plain data.

A recipe names its base model, how prompts are built (thinking off, an optional system line), held-out scoring,
LoRA, an optional supervised warm-up, how GRPO samples its rollouts (`rollouts`: TRL's own free generation, or under
edgefc's tool grammar, see train/rollouts.py), and per stage the reward weights and TRL's GRPOConfig arguments, passed
through as they are (so every TRL option is available without edgefc knowing it). Shipped recipes live in
train/recipes/; a path to any YAML file works too.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from edgefc.errors import EdgefcError, require

STAGES = (1, 2)
ROLLOUTS = ("free", "grammar")  # how GRPO samples: TRL's generate, or edgefc's tool grammar masking each step


@dataclass(frozen=True)
class Stage:
    """One GRPO stage: reward weights by REWARDS name, TRL arguments, and where its weights start."""

    rewards: dict[str, float]
    grpo: dict[str, Any]
    init: str = "model"  # "model" (the recipe's base) or "stage1" (stage 1's best checkpoint)


@dataclass(frozen=True)
class Recipe:
    """A whole training recipe (see the module doc)."""

    name: str
    model: str | None  # the base model (catalog name, folder, hub ID); None: give one with --model
    stages: dict[int, Stage]
    description: str = ""
    system_prompt: str | None = None  # prepended to every prompt (e.g. the call format spelled out)
    enable_thinking: bool = False
    max_prompt_tokens: int = 2048  # longer prompts are dropped (GRPO has no max_prompt_length)
    heldout: int = 32  # records kept out of training and scored greedily for checkpoint selection
    eval_every: int = 50  # steps between held-out scorings (0: only at the end)
    patience: int = 0  # scorings without a new best before stopping (0: never stop early)
    eval_max_tokens: int = 128
    synthetic: int = 0  # records from the bilingual generator when no --data is given
    seed: int = 0
    lora: dict[str, Any] | None = None  # peft.LoraConfig arguments; merged into the weights at the end
    warmup: dict[str, Any] | None = None  # SFTConfig arguments for a supervised warm-up before stage 1
    warmup_tag_lr_scale: float = 1.0  # with LoRA: the call tags' own rows learn at this x the warm-up's LR (0: frozen)
    warmup_decision_weight: float = 1.0  # the warm-up loss weighs each answer's first token (call or not) this much
    rollouts: str = "free"  # one of ROLLOUTS
    warmup_eval_every: int = 0  # warm-up steps between held-out scorings (0: only at its end)

    def stage(self, number: int) -> Stage:
        if number not in self.stages:
            raise EdgefcError(f"recipe {self.name!r} has no stage {number} (it has {sorted(self.stages)})")
        return self.stages[number]


def shipped() -> list[str]:
    """Names of the recipes that ship in train/recipes/."""
    return sorted(p.name.removesuffix(".yaml") for p in resources.files("edgefc.train.recipes").iterdir()
                  if p.name.endswith(".yaml"))


def load_recipe(ref: str | Path) -> Recipe:
    """A shipped recipe by name, or a YAML file by path."""
    yaml = require("yaml", "train")
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise EdgefcError(f"recipe file {path} does not exist")
        text, name = path.read_text(encoding="utf-8"), path.stem
    else:
        if str(ref) not in shipped():
            raise EdgefcError(f"unknown recipe {ref!r}; shipped: {', '.join(shipped())}, or give a YAML file")
        text = resources.files("edgefc.train.recipes").joinpath(f"{ref}.yaml").read_text(encoding="utf-8")
        name = str(ref)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise EdgefcError(f"recipe {name!r} is not valid YAML: {exc}") from None
    return parse_recipe(data, name)


def parse_recipe(data: Any, name: str) -> Recipe:
    """Check a recipe's data and turn it into a Recipe; errors name the field."""
    from edgefc.train.rewards import REWARDS

    if not isinstance(data, dict):
        raise EdgefcError(f"recipe {name!r} must be a mapping")
    data = dict(data)
    stages_data = data.pop("stages", None)
    if not isinstance(stages_data, dict) or not stages_data:
        raise EdgefcError(f"recipe {name!r} needs 'stages' with stage 1 (and optionally 2)")
    stages = {}
    for key, value in stages_data.items():
        number = int(key)
        if number not in STAGES or not isinstance(value, dict):
            raise EdgefcError(f"recipe {name!r}: stages are 1 and 2, each a mapping (got {key!r})")
        rewards = value.get("rewards") or {}
        unknown = sorted(set(rewards) - set(REWARDS))
        if unknown or not rewards:
            raise EdgefcError(f"recipe {name!r} stage {number}: rewards must be among {', '.join(REWARDS)}"
                              + (f" (unknown: {', '.join(unknown)})" if unknown else ""))
        init = value.get("init", "model")
        if init not in ("model", "stage1"):
            raise EdgefcError(f"recipe {name!r} stage {number}: init is 'model' or 'stage1', not {init!r}")
        extra = sorted(set(value) - {"rewards", "grpo", "init"})
        if extra:
            raise EdgefcError(f"recipe {name!r} stage {number}: unknown field(s) {', '.join(extra)}")
        stages[number] = Stage({k: float(v) for k, v in rewards.items()}, dict(value.get("grpo") or {}), init)
    known = {f for f in Recipe.__dataclass_fields__ if f not in ("name", "stages")}
    unknown = sorted(set(data) - known)
    if unknown:
        raise EdgefcError(f"recipe {name!r}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    if data.get("rollouts", "free") not in ROLLOUTS:
        raise EdgefcError(f"recipe {name!r}: rollouts is {' or '.join(repr(r) for r in ROLLOUTS)}, "
                          f"not {data['rollouts']!r}")
    return Recipe(name=name, stages=stages, **{"model": None, **data})
