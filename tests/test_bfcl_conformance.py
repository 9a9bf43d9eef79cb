"""edgefc's BFCL decoding and checker against bfcl-eval's own, case by case: the checker on real entries and
mutated answers, and the whole path (raw model text -> BFCL's Qwen FC handler decoding -> verdict) on raw texts
of a real bench run plus hand-made edge cases.

bfcl-eval needs ~150 packages, so it lives in its own venv, given by $EDGEFC_BFCL_PYTHON, and is driven
through tests/bfcl_official_check.py. Without it the test skips, or fails under CI.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

from edgefc.bfcl.checker import Verdict, check
from edgefc.bfcl.categories import CATEGORIES, names
from edgefc.bfcl.data import Entry, load_category
from edgefc.bfcl.decode import official_decode
from tests.bfcl_support import official_python, real_wheel

HELPER = Path(__file__).with_name("bfcl_official_check.py")
RAW_TEXTS = Path(__file__).parent / "fixtures" / "bfcl_raw_texts.jsonl"
PER_CATEGORY = 40  # live_parallel (16) and live_parallel_multiple (24) are taken whole
_SKIP = object()


# --- mutations ---------------------------------------------------------------------------------


def _first(options: list[Any], keep_optional: bool, depth: int = 0) -> Any:
    """The first option ("" means leave out: _SKIP), or the first non-"" one; one level into dicts, likewise."""
    chosen = [o for o in options if o != ""] if keep_optional else options
    if not chosen or chosen[0] == "":
        return _SKIP
    return _concrete(chosen[0], keep_optional) if depth == 0 else chosen[0]


def _concrete(option: Any, keep_optional: bool) -> Any:
    """An option as a model would give it: a dict option holds a list of options per key."""
    if type(option) is dict:
        picked = {key: _first(values, keep_optional, 1) if type(values) is list else values
                  for key, values in option.items()}
        return {key: value for key, value in picked.items() if value is not _SKIP}
    if type(option) is list:
        return [_concrete(item, keep_optional) if type(item) is dict else item for item in option]
    return option


def _first_choice(answer: list[dict[str, Any]], *, keep_optional: bool) -> list[dict[str, Any]]:
    """Each expected call with every parameter's first option ("" leaves it out), or first non-"" option."""
    calls = []
    for expected in answer:
        (name, params), = expected.items()
        args = {param: _first(options, keep_optional) for param, options in params.items()}
        calls.append({name: {param: value for param, value in args.items() if value is not _SKIP}})
    return copy.deepcopy(calls)


def _changed(value: Any) -> Any:
    """A different value of the same type."""
    if type(value) is bool:
        return not value
    if type(value) is int:
        return value + 7
    if type(value) is float:
        return value + 0.5
    if type(value) is str:
        return value + " zz"
    if type(value) is list:
        return value[:-1] if value else ["zz"]
    if type(value) is dict:
        return {**value, next(iter(value)): _changed(next(iter(value.values())))} if value else {"zz": 1}
    return "zz"


def _retyped(value: Any) -> Any:
    """The value as another type: a string as 1, an integral float as an int (allowed), an int as a float
    (rejected), anything else as its JSON text."""
    if type(value) is str:
        return 1
    if type(value) is float and value.is_integer():
        return int(value)  # int for float: allowed
    if type(value) is int:
        return float(value)  # float for int: rejected
    return json.dumps(value)


def _restyled(value: str) -> str:
    """Upper case, ignored punctuation sprinkled in, ' as ": equal after standardization."""
    return " ^" + value.upper().replace(" ", " _ ").replace("'", '"') + ".,*/-"


def _with_arg(calls: list[dict[str, Any]], index: int, edit: Any) -> list[dict[str, Any]]:
    """A copy of calls whose call at index had its arguments edited in place by edit(args)."""
    out = copy.deepcopy(calls)
    edit(next(iter(out[index].values())))
    return out


def _arg_mutations(calls: list[dict[str, Any]]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Per-argument mutations of the first call with arguments."""
    index = next((i for i, call in enumerate(calls) if next(iter(call.values()))), None)
    if index is None:
        return
    args = next(iter(calls[index].values()))
    for param, value in args.items():
        yield f"drop {param}", _with_arg(calls, index, lambda a, p=param: a.pop(p))
        yield f"change {param}", _with_arg(calls, index, lambda a, p=param: a.__setitem__(p, _changed(a[p])))
        yield f"retype {param}", _with_arg(calls, index, lambda a, p=param: a.__setitem__(p, _retyped(a[p])))
        if type(value) is str:
            yield f"restyle {param}", _with_arg(calls, index, lambda a, p=param: a.__setitem__(p, _restyled(a[p])))
        if type(value) is list:
            yield f"empty {param}", _with_arg(calls, index, lambda a, p=param: a.__setitem__(p, []))
        if type(value) is list and value:
            yield f"retype items {param}", _with_arg(
                calls, index, lambda a, p=param: a.__setitem__(p, [_retyped(v) for v in a[p]]))
            yield f"reverse {param}", _with_arg(calls, index, lambda a, p=param: a.__setitem__(p, a[p][::-1]))
        if type(value) is dict and value:
            key = next(iter(value))
            yield f"drop key {param}", _with_arg(calls, index, lambda a, p=param, k=key: a[p].pop(k))
            yield f"extra key {param}", _with_arg(calls, index, lambda a, p=param: a[p].__setitem__("zz", 1))
            if len(value) > 1:
                yield f"change key, drop another {param}", _with_arg(
                    calls, index, lambda a, p=param, k=key: a[p].update({k: _changed(a[p][k])}) or a[p].popitem())
    yield "extra param", _with_arg(calls, index, lambda a: a.__setitem__("zz_extra", 1))
    yield "bool param", _with_arg(calls, index, lambda a: a.__setitem__(next(iter(a)), True))


def _answer_cases(entry: Entry) -> Iterator[tuple[str, Any]]:
    """Decoded outputs for an entry with possible answers: correct ones and mutations."""
    calls = _first_choice(entry.answer, keep_optional=False)
    yield "first option", calls
    with_optional = _first_choice(entry.answer, keep_optional=True)
    yield "with optional", with_optional
    yield from _arg_mutations(calls)
    optional = [(label, call) for label, call in _arg_mutations(with_optional) if label.startswith("empty ")]
    yield from [(f"{label} (optional given)", call) for label, call in optional]
    if len(calls) > 1:
        yield "reversed", calls[::-1]
        yield "drop last call", calls[:-1]
    yield "extra call", calls + calls[:1]
    name = next(iter(calls[0]))
    yield "renamed", [{name + "_x": calls[0][name]}, *calls[1:]]
    if "." in name:
        yield "dots to underscores", [{name.replace(".", "_"): calls[0][name]}, *calls[1:]]
    yield "other function", [{doc["name"]: {}} for doc in entry.functions[:1]]
    yield from [("none", None), ("empty", []), ("empty call", [{}]), ("text", "no call"),
                ("string args", [{name: "x"}])]


def _irrelevance_cases(entry: Entry) -> Iterator[tuple[str, Any]]:
    """Decoded outputs for an irrelevance entry: no call in several forms, and calls."""
    doc = entry.functions[0] if entry.functions else {"name": "zz", "parameters": {"required": ["x"]}}
    required = {param: "x" for param in doc["parameters"]["required"]}
    yield from [("none", None), ("empty", []), ("empty call", [{}]), ("text", "no call"),
                ("string args", [{doc["name"]: "x"}]), ("call", [{doc["name"]: required}]),
                ("empty args", [{doc["name"]: {}}]), ("two calls", [{doc["name"]: {}}, {"zz": {}}])]


_TYPES = {"string": str, "any": str, "integer": int, "float": float, "boolean": bool, "array": list, "tuple": list,
          "dict": dict}


def _unusual(entry: Entry) -> bool:
    """Whether a possible answer takes the checker's rarer paths: dicts, lists of dicts, null options, options
    of another type than the parameter's ("variables"), list items of another type than the declared one, or
    optional lists ("" stands for the empty list)."""
    docs = {doc["name"]: doc["parameters"]["properties"] for doc in entry.functions}
    for expected in entry.answer or []:
        (name, params), = expected.items()
        for param, options in params.items():
            schema = docs[name].get(param, {})
            if "" in options and any(type(option) is list for option in options):
                return True
            for option in options:
                if option == "":
                    continue
                if option is None or type(option) is dict or type(option) is not _TYPES.get(schema.get("type")):
                    return True
                items = _TYPES.get(schema.get("items", {}).get("type"))
                if type(option) is list and any(type(item) is not items for item in option):
                    return True
    return False


def _cases(wheel: Path) -> list[tuple[Entry, str, Any]]:
    """A fixed sample of every category plus every unusual entry, each with its mutations."""
    cases = []
    for category in names(multi_turn=False):
        sample = load_category(category, limit=PER_CATEGORY, seed=0, wheel=wheel)
        chosen = {entry.id for entry in sample}
        extra = [e for e in load_category(category, wheel=wheel) if _unusual(e) and e.id not in chosen]
        for entry in sample + extra:
            mutations = _irrelevance_cases if CATEGORIES[category].rule == "irrelevance" else _answer_cases
            cases += [(entry, label, decoded) for label, decoded in mutations(entry)]
    return cases


def _official(python: str, cases: list[tuple[Entry, str, Any]], tmp_path: Path, field: str = "decoded"
              ) -> list[dict[str, Any]]:
    """bfcl-eval's verdicts on the cases (decoded calls, or raw texts with field="text"), in order, from
    tests/bfcl_official_check.py."""
    lines = [json.dumps({"category": e.category, field: value,
                         "entry": {"id": e.id, "function": e.functions, "possible_answer": e.answer}})
             for e, _, value in cases]
    env = {**os.environ, "BFCL_PROJECT_ROOT": str(tmp_path)}
    proc = subprocess.run([python, str(HELPER)], input="\n".join(lines), capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def _agrees(ours: Verdict, official: dict[str, Any]) -> bool:
    """Same validity and same error_type (an exception in bfcl-eval never agrees)."""
    return (ours.valid, ours.error_type) == (official.get("valid"), official.get("error_type"))


def test_checker_agrees_with_bfcl_eval(tmp_path: Path) -> None:
    python = official_python()
    cases = _cases(real_wheel())
    official = _official(python, cases, tmp_path)
    assert len(official) == len(cases)
    disagreements = [
        f"{entry.id} [{label}] decoded={decoded!r}: ours {(ours.valid, ours.error_type)}, bfcl-eval {theirs}"
        for (entry, label, decoded), theirs in zip(cases, official)
        if not _agrees(ours := check(entry, decoded), theirs)
    ]
    assert not disagreements, f"{len(disagreements)} of {len(cases)} disagree:\n" + "\n".join(disagreements[:20])
    assert len(cases) > 2000
    assert sum(v.get("valid", False) for v in official) > 500  # the correct answers really pass


# --- raw model texts ---------------------------------------------------------------------------

_CALL = '{"name": "calculate_triangle_area", "arguments": {"base": 10, "height": 5}}'
# Raw completions for simple_python_0 (calculate_triangle_area, base 10, height 5) and irrelevance_0, each testing
# one way BFCL's Qwen FC handler reads (or does not read) a call.
HAND_MADE = {
    "exact block": f"<tool_call>\n{_CALL}\n</tool_call>",
    "block and text after": f"<tool_call>\n{_CALL}\n</tool_call>\nThe area is 25.",
    "fenced JSON": f"```json\n{_CALL}\n```",
    "fenced JSON in tags": f"<tool_call>\n```json\n{_CALL}\n```\n</tool_call>",
    "tags without inner newlines": f"<tool_call>{_CALL}</tool_call>",
    "spaces around the JSON": f"<tool_call>\n  {_CALL}  \n</tool_call>",
    "CRLF line ends": f"<tool_call>\r\n{_CALL}\r\n</tool_call>",
    "two blocks": f"<tool_call>\n{_CALL}\n</tool_call>\n<tool_call>\n{_CALL}\n</tool_call>",
    "broken JSON, then a good block": f"<tool_call>\n{{\"name\": \"calculate_triangle_area\", \n</tool_call>\n"
                                      f"<tool_call>\n{_CALL}\n</tool_call>",
    "broken JSON only": '<tool_call>\n{"name": "calculate_triangle_area", "arguments": {"base": 10\n</tool_call>',
    "JSON list in the block": f"<tool_call>\n[{_CALL}]\n</tool_call>",
    "arguments as a string": '<tool_call>\n{"name": "calculate_triangle_area", "arguments": "{\\"base\\": 10}"}\n'
                             '</tool_call>',
    "no arguments key": '<tool_call>\n{"name": "calculate_triangle_area"}\n</tool_call>',
    "parameters instead of arguments": '<tool_call>\n{"name": "calculate_triangle_area", "parameters": '
                                       '{"base": 10, "height": 5}}\n</tool_call>',
    "a number in the block": "<tool_call>\n42\n</tool_call>",
    "think, then the call": f"<think>\nThe user wants an area.\n</think>\n\n<tool_call>\n{_CALL}\n</tool_call>",
    "call inside think only": f"<think>\n<tool_call>\n{_CALL}\n</tool_call>\n</think>\n\nI cannot help.",
    "unclosed think": f"<think>\nLet me call it.\n<tool_call>\n{_CALL}\n</tool_call>",
    "two think blocks": f"<think>\na\n</think>\n<think>\nb\n</think>\n<tool_call>\n{_CALL}\n</tool_call>",
    "empty think, call": f"<think>\n\n</think>\n\n<tool_call>\n{_CALL}\n</tool_call>",
    "wrong value": '<tool_call>\n{"name": "calculate_triangle_area", "arguments": {"base": 10, "height": 6}}\n'
                   '</tool_call>',
    "a refusal": "None of the provided functions can compute that.",
    "empty": "",
}


def _raw_cases(wheel: Path) -> list[tuple[Entry, str, str]]:
    """Raw texts of a real bench run (tests/fixtures/bfcl_raw_texts.jsonl: the embedded qwen2.5-coder-0.5b-instruct
    Q4_K_M, `edgefc bench --suite bfcl --categories live_multiple,live_irrelevance,live_simple --limit 40`; it
    fences its JSON and never writes <tool_call> tags), and the hand-made texts above, which take the tag paths,
    on a call entry and an irrelevance entry."""
    rows = [json.loads(line) for line in RAW_TEXTS.read_text(encoding="utf-8").splitlines() if line.strip()]
    wanted = {row["category"] for row in rows} | {"simple_python", "irrelevance"}
    entries = {e.id: e for category in wanted for e in load_category(category, wheel=wheel)}
    cases = [(entries[row["id"]], f"bench run: {row['id']}", row["text"]) for row in rows]
    for entry_id in ("simple_python_0", "irrelevance_0"):
        cases += [(entries[entry_id], label, text) for label, text in HAND_MADE.items()]
    return cases


def test_raw_texts_decode_and_score_as_bfcl_eval_does(tmp_path: Path) -> None:
    python = official_python()
    cases = _raw_cases(real_wheel())
    official = _official(python, cases, tmp_path, field="text")
    assert len(official) == len(cases)
    disagreements = []
    for (entry, label, text), theirs in zip(cases, official):
        decoded = official_decode(text)
        theirs_decoded = theirs.get("decoded") if "decode_error" not in theirs else None
        if decoded != theirs_decoded or not _agrees(check(entry, decoded), theirs):
            disagreements.append(f"{entry.id} [{label}] {text!r}: ours {decoded!r} {check(entry, decoded)}, "
                                 f"bfcl-eval {theirs}")
    assert not disagreements, f"{len(disagreements)} of {len(cases)} disagree:\n" + "\n".join(disagreements[:20])
    labels = [label for _, label, _ in cases]
    assert sum(label.startswith("bench run") for label in labels) >= 50
    # The cases reach every outcome: calls decoded and passing, decoded and failing, and decoding failures.
    assert any(o.get("valid") and o.get("decoded") for o in official)
    assert any("decode_error" in o for o in official)
    assert any(not o.get("valid") and o.get("decoded") for o in official)
