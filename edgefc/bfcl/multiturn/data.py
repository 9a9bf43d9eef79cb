"""BFCL multi-turn entries (base, miss_func, miss_param, long_context) read out of the pinned bfcl-eval wheel.

An entry's functions are every doc of its involved classes, minus the ones a miss_func entry withholds until a
later turn, as bfcl-eval's populate_test_cases_with_predefined_functions builds them; `path` is only data.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edgefc.bfcl.categories import get
from edgefc.bfcl.data import DATA_DIR, read_category, read_jsonl
from edgefc.bfcl.sample import sample_indices
from edgefc.errors import EdgefcError

# The simulated API classes of these categories: module in func_source_code, function-doc file.
API_CLASSES = {
    "GorillaFileSystem": ("gorilla_file_system", "gorilla_file_system.json"),
    "MathAPI": ("math_api", "math_api.json"),
    "MessageAPI": ("message_api", "message_api.json"),
    "TwitterAPI": ("posting_api", "posting_api.json"),
    "TicketAPI": ("ticket_api", "ticket_api.json"),
    "TradingBot": ("trading_bot", "trading_bot.json"),
    "TravelAPI": ("travel_booking", "travel_booking.json"),
    "VehicleControlAPI": ("vehicle_control", "vehicle_control.json"),
}


@dataclass(frozen=True)
class MultiTurnEntry:
    """One multi-turn entry: user messages per turn (an empty turn of miss_func brings back `missed_function`),
    the APIs' classes and starting state, the functions offered from turn 0, and the ground-truth calls per turn."""

    id: str
    category: str
    turns: list[list[dict[str, Any]]]
    involved_classes: list[str]
    initial_config: dict[str, Any]
    path: list[str]
    functions: list[dict[str, Any]]
    missed_function: dict[int, list[dict[str, Any]]]
    ground_truth: list[list[str]]

    @property
    def long_context(self) -> bool:
        """Whether the APIs load their long-context extras, as bfcl-eval decides it (by the category name)."""
        return "long_context" in self.category


def load_multi_turn(category: str, limit: int | None = None, seed: int = 0,
                    wheel: str | Path | None = None) -> list[MultiTurnEntry]:
    """All entries of a multi-turn category, or a fixed-seed sample of `limit` of them, in file order."""
    path, prompts, answers = read_category(get(category, multi_turn=True), wheel)
    docs = function_docs(path)
    return [_entry(prompts[i], answers[i], category, docs) for i in sample_indices(len(prompts), limit, seed)]


def function_docs(wheel: Path) -> dict[str, list[dict[str, Any]]]:
    """Each API class's function docs (multi_turn_func_doc), in file order."""
    return {name: read_jsonl(wheel, f"{DATA_DIR}/multi_turn_func_doc/{doc_file}")
            for name, (_, doc_file) in API_CLASSES.items()}


def _entry(prompt: dict[str, Any], answer: dict[str, Any], category: str,
           docs: dict[str, list[dict[str, Any]]]) -> MultiTurnEntry:
    """An entry from its prompt line and its possible-answer line (paired by position, as bfcl-eval does)."""
    unknown = [name for name in prompt["involved_classes"] if name not in API_CLASSES]
    if unknown:
        raise EdgefcError(f"BFCL entry {prompt['id']} involves unknown API classes {unknown}")
    functions = [copy.deepcopy(doc) for name in prompt["involved_classes"] for doc in docs[name]]
    missed: dict[int, list[dict[str, Any]]] = {}
    for turn, names in prompt.get("missed_function", {}).items():
        missed[int(turn)] = []
        for name in names:  # as bfcl-eval: the first doc of that name moves over; an unknown name is skipped
            found = next((i for i, doc in enumerate(functions) if doc["name"] == name), None)
            if found is not None:
                missed[int(turn)].append(functions.pop(found))
    return MultiTurnEntry(
        id=prompt["id"], category=category, turns=prompt["question"], involved_classes=prompt["involved_classes"],
        initial_config=prompt.get("initial_config", {}), path=prompt.get("path", []), functions=functions,
        missed_function=missed, ground_truth=answer["ground_truth"])
