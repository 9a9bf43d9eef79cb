"""The GRPO rewards and the batch metrics on tables of answers, in every input form TRL hands them: calls and
refusals due (the first table), and text answers due after a tool result (the answer reward's table, and the other
four rewards on the same rows)."""

from __future__ import annotations

import json
import math
import types
from typing import Any

import pytest

from edgefc.protocol.parse import REFUSAL, format_tool_calls
from edgefc.train import rewards
from edgefc.train.rewards import (
    ANSWER_FALSE_CALL,
    ANSWER_LENGTH_BUDGET,
    ANSWER_LENGTH_FLOOR,
    FALSE_CALL,
    FALSE_REFUSAL,
    FORMAT_CREDIT,
    NAME_CREDIT,
    NO_CALL_TEXT_CREDIT,
    REWARDS,
    RIGHT_REFUSAL,
    THINK_FACTOR,
    TYPE_SLIP_CREDIT,
    UNTIDY_FACTOR,
    WORDY_REFUSAL_CREDIT,
    WRONG_LANGUAGE_FACTOR,
    batch_metrics,
    completion_text,
)

TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather", "description": "Current weather in a city.",
        "parameters": {"type": "object", "required": ["city"], "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"},
            "days": {"type": "integer"}}}}},
    {"type": "function", "function": {
        "name": "get_time", "description": "Local time in a timezone.",
        "parameters": {"type": "object", "required": ["timezone"], "properties": {"timezone": {"type": "string"}}}}},
]
OSLO = {"name": "get_weather", "arguments": {"city": "Oslo"}}
PARIS = {"name": "get_weather", "arguments": {"city": "Paris"}}
TIME = {"name": "get_time", "arguments": {"timezone": "Europe/Oslo"}}
ONE = [OSLO]
TWO = [OSLO, TIME]
NONE: list[dict[str, Any]] = []


def tagged(*calls: dict[str, Any]) -> str:
    """The canonical answer for calls."""
    return format_tool_calls(list(calls))


def fenced(call: dict[str, Any]) -> str:
    """A call as the embedded model writes it: a pretty-printed ```json fence."""
    return "```json\n" + json.dumps(call, indent=2) + "\n```"


def efficiency(text: str, truth: list[dict[str, Any]], think: bool = False) -> float:
    """The efficiency the module's rule gives a due answer: min(1, reference length / length), halved by <think>."""
    reference = tagged(*truth) if truth else REFUSAL
    return min(1.0, len(reference) / len(text.strip())) * (THINK_FACTOR if think else 1.0)


FENCED = fenced(OSLO)
BARE = json.dumps(OSLO)
UNCLOSED = tagged(OSLO).removesuffix("</tool_call>").rstrip()  # BFCL's decoding reads no call from it
STRING_DAYS = tagged({"name": "get_weather", "arguments": {"city": "Oslo", "days": "3"}})
LOWER_ZONE = tagged({"name": "get_time", "arguments": {"timezone": "europe/oslo "}})
THINKING = "<think>The user wants the weather in Oslo, so I call get_weather.</think>\n" + tagged(OSLO)

# (case, completion, truth, format, correctness, refusal, efficiency)
CASES = [
    ("right call", tagged(OSLO), ONE, 1.0, 1.0, 0.0, 1.0),
    ("wrong name", tagged({"name": "get_time", "arguments": {"city": "Oslo"}}), ONE, 1.0, 0.0, 0.0,
     efficiency(tagged({"name": "get_time", "arguments": {"city": "Oslo"}}), ONE)),
    ("wrong values", tagged(PARIS), ONE, 1.0, NAME_CREDIT, 0.0, efficiency(tagged(PARIS), ONE)),
    ("one of two values wrong", tagged({"name": "get_weather", "arguments": {"city": "Oslo", "days": 2}}),
     [{"name": "get_weather", "arguments": {"city": "Oslo", "days": 3}}], 1.0, NAME_CREDIT + (1 - NAME_CREDIT) / 2,
     0.0, 1.0),
    ("extra call", tagged(OSLO, TIME), ONE, 1.0, 0.5, 0.0, efficiency(tagged(OSLO, TIME), ONE)),
    ("missing call", tagged(OSLO), TWO, 1.0, 0.5, 0.0, 1.0),
    ("parallel calls in another order", tagged(TIME, OSLO), TWO, 1.0, 1.0, 0.0, 1.0),
    ("same-name parallel calls swapped", tagged(PARIS, OSLO), [OSLO, PARIS], 1.0, 1.0, 0.0, 1.0),
    ("right refusal", REFUSAL, NONE, 1.0, None, RIGHT_REFUSAL, 1.0),
    ("hallucinated call on a negative", tagged(OSLO), NONE, 1.0, None, FALSE_CALL, 0.0),
    ("refusal on a positive", REFUSAL, ONE, 1.0, 0.0, FALSE_REFUSAL, 0.0),
    ("wordy refusal", "Sorry. " + REFUSAL + " Try a weather service.", NONE, WORDY_REFUSAL_CREDIT, None,
     RIGHT_REFUSAL, 0.0),
    ("decline in other words", "I cannot look that up.", NONE, 0.0, None, NO_CALL_TEXT_CREDIT, 0.0),
    ("think present", THINKING, ONE, 1.0, 1.0, 0.0, efficiency(THINKING, ONE, think=True)),
    ("think before the refusal", "<think>no tool fits</think>" + REFUSAL, NONE, 1.0, None, RIGHT_REFUSAL,
     efficiency("<think>no tool fits</think>" + REFUSAL, NONE, think=True)),
    ("fenced JSON", FENCED, ONE, FORMAT_CREDIT["json_fence"], 1.0, 0.0, efficiency(FENCED, ONE)),
    ("fenced JSON with prose", "Here is the call:\n" + FENCED, ONE, FORMAT_CREDIT["json_fence"] * UNTIDY_FACTOR,
     1.0, 0.0, efficiency("Here is the call:\n" + FENCED, ONE)),
    ("bare JSON", BARE, ONE, FORMAT_CREDIT["json"], 1.0, 0.0, 1.0),
    ("<tool_call> never closed", UNCLOSED, ONE, UNTIDY_FACTOR, 1.0, 0.0, efficiency(UNCLOSED, ONE)),
    ("fenced call on a negative", FENCED, NONE, FORMAT_CREDIT["json_fence"], None, FALSE_CALL, 0.0),
    ("call to a tool not offered", tagged({"name": "book_flight", "arguments": {"to": "Oslo"}}), ONE, 1.0, 0.0,
     0.0, 0.0),
    ("number as a string", STRING_DAYS, [{"name": "get_weather", "arguments": {"city": "Oslo", "days": 3}}], 1.0,
     NAME_CREDIT + (1 - NAME_CREDIT) * (1 + TYPE_SLIP_CREDIT) / 2, 0.0,
     efficiency(STRING_DAYS, [{"name": "get_weather", "arguments": {"city": "Oslo", "days": 3}}])),
    ("BFCL string normalization", LOWER_ZONE, [TIME], 1.0, 1.0, 0.0, efficiency(LOWER_ZONE, [TIME])),
    ("extra argument at its default", tagged({"name": "get_weather", "arguments": {"city": "Oslo", "unit": "celsius"}}),
     ONE, 1.0, 1.0, 0.0, efficiency(tagged({"name": "get_weather", "arguments": {"city": "Oslo", "unit": "celsius"}}),
                                    ONE)),
    ("extra argument off its default",
     tagged({"name": "get_weather", "arguments": {"city": "Oslo", "unit": "fahrenheit"}}), ONE, 1.0,
     NAME_CREDIT + (1 - NAME_CREDIT) / 2, 0.0,
     efficiency(tagged({"name": "get_weather", "arguments": {"city": "Oslo", "unit": "fahrenheit"}}), ONE)),
    ("empty answer", "", ONE, 0.0, 0.0, 0.0, 0.0),
    ("empty answer on a negative", "", NONE, 0.0, None, 0.0, 0.0),
    ("garbage", "}}{{ <tool_call> {name: ]]", ONE, 0.0, 0.0, 0.0, 0.0),
    ("garbage on a negative", "}}{{ <tool_call> {name: ]]", NONE, 0.0, None, NO_CALL_TEXT_CREDIT, 0.0),
]
IDS = [case[0] for case in CASES]


def _forms(text: str, truth: list[dict[str, Any]]) -> list[tuple[Any, Any, Any]]:
    """The same row as text or conversational completion, with JSON-string or decoded columns."""
    conversational = [{"role": "assistant", "content": text}]
    return [(text, json.dumps(truth), json.dumps(TOOLS)), (conversational, truth, TOOLS),
            (conversational, json.dumps(truth), json.dumps(TOOLS)), (text, truth, TOOLS)]


@pytest.mark.parametrize("name", list(REWARDS))
@pytest.mark.parametrize(("case", "text", "truth", "fmt", "correct", "refusal", "eff"), CASES, ids=IDS)
def test_reward_table(name: str, case: str, text: str, truth: list[dict[str, Any]], fmt: float,
                      correct: float | None, refusal: float, eff: float) -> None:
    expected = {"format": fmt, "correctness": correct, "refusal": refusal, "efficiency": eff, "answer": None}[name]
    for completion, calls, tools in _forms(text, truth):
        [got] = REWARDS[name]([completion], [calls], [tools])
        assert got == (None if expected is None else pytest.approx(expected)), (case, name, completion)


def test_the_rewards_score_a_batch_row_by_row() -> None:
    texts = [case[1] for case in CASES]
    truths = [json.dumps(case[2]) for case in CASES]
    tools = [json.dumps(TOOLS)] * len(CASES)
    for column, name in enumerate([name for name in REWARDS if name != "answer"], start=3):
        got = REWARDS[name](texts, truths, tools)
        assert got == [None if case[column] is None else pytest.approx(case[column]) for case in CASES], name


# --- text answers due: the turn after a tool result (or a tool error) ---------------------------------------------

# Rows as the families write them: no calls, a reference answer, facts (each a list of accepted spellings), a language.
HANOI = {"answer": "It is 30°C and sunny in Hà Nội.", "facts": json.dumps([["30"], ["Hà Nội", "Hanoi"]]),
         "language": "en"}
HANOI_VI = {**HANOI, "answer": "Hà Nội đang 30 độ, trời nắng.", "language": "vi"}
FAILED = {"answer": "Sorry, I couldn't check: the service is temporarily unavailable.",
          "facts": json.dumps([["sorry", "couldn't", "failed", "error", "xin lỗi", "không thành công", "lỗi"]]),
          "language": "en"}
NO_FACTS = {"answer": "Your order has shipped.", "facts": "[]", "language": "en"}


def long_answer(row: dict[str, Any], text: str) -> float:
    """The length factor of an answer stating every fact in the right language (see the constants)."""
    budget = ANSWER_LENGTH_BUDGET * len(row["answer"])
    return max(ANSWER_LENGTH_FLOOR, min(1.0, budget / len(text.strip())) ** 0.5)


PADDED = "It is 30°C in Hanoi. " + "The sky is clear and the air is warm and still today. " * 2
RAMBLING = "It is 30°C in Hanoi. " + "The sky is clear and the air is warm and still today. " * 20

# (case, completion, row, answer reward)
ANSWER_CASES = [
    ("every fact, folded spelling", "It is 30°C in Ha Noi.", HANOI, 1.0),
    ("every fact, upper case with diacritics", "IT IS 30°C IN HÀ NỘI.", HANOI, 1.0),
    ("every fact, the other accepted spelling", "Hanoi: 30°C, sunny.", HANOI, 1.0),
    ("one fact of two", "It is 30°C there.", HANOI, 0.5),
    ("a longer number does not state 30", "It is 300°C in Hanoi.", HANOI, 0.5),
    ("a year does not state 30", "Hanoi, 2030.", HANOI, 0.5),
    ("a decimal does not state 30", "It is 30.5°C in Hanoi.", HANOI, 0.5),
    ("no fact", "I hope you have a nice day.", HANOI, 0.0),
    ("a call where the result was to be told", tagged(OSLO), HANOI, ANSWER_FALSE_CALL),
    ("the refusal sentence", REFUSAL, HANOI, 0.0),
    ("empty", "", HANOI, 0.0),
    ("thinking, then every fact", "<think>The tool said 30.</think>It is 30°C in Hanoi.", HANOI, 1.0),
    ("Vietnamese for a Vietnamese user", "Hà Nội đang 30 độ.", HANOI_VI, 1.0),
    ("English for a Vietnamese user", "It is 30°C in Hanoi.", HANOI_VI, WRONG_LANGUAGE_FACTOR),
    ("English naming a Vietnamese place", "Hà Nội: 30°C now.", HANOI, 1.0),
    ("only facts: no language to judge", "Hà Nội, 30°C", HANOI_VI, 1.0),
    ("English around a Vietnamese place, to a Vietnamese user", "Hà Nội is at 30°C now.", HANOI_VI,
     WRONG_LANGUAGE_FACTOR),
    ("longer than the budget", PADDED, HANOI, long_answer(HANOI, PADDED)),
    ("far longer than the budget", RAMBLING, HANOI, ANSWER_LENGTH_FLOOR),
    ("a tool error said plainly", "Sorry, the service is down right now.", FAILED, 1.0),
    ("a tool error said in Vietnamese to an English user", "Xin lỗi, dịch vụ đang lỗi.", FAILED,
     WRONG_LANGUAGE_FACTOR),
    ("a tool error hidden", "Done! Everything worked.", FAILED, 0.0),
    ("no facts to state", "It has shipped.", NO_FACTS, 1.0),
]


@pytest.mark.parametrize(("case", "text", "row", "expected"), ANSWER_CASES, ids=[c[0] for c in ANSWER_CASES])
def test_answer_reward_table(case: str, text: str, row: dict[str, Any], expected: float) -> None:
    for completion, calls, tools in _forms(text, NONE):
        facts = [row["facts"] if isinstance(calls, str) else json.loads(row["facts"])]
        got = rewards.answer_reward([completion], [calls], [tools], answer=[row["answer"]], facts=facts,
                                    language=[row["language"]])
        assert got == [pytest.approx(expected)], (case, completion)


def test_answer_ranks_the_answers_a_group_can_hold() -> None:
    """Within one group: every fact briefly > every fact at length > some facts > the refusal = nothing > a call."""
    texts = ["It is 30°C in Hanoi.", PADDED, "It is 30°C.", REFUSAL, "", tagged(OSLO)]
    count = len(texts)
    got = rewards.answer_reward(texts, ["[]"] * count, [TOOLS] * count, answer=[HANOI["answer"]] * count,
                                facts=[HANOI["facts"]] * count, language=["en"] * count)
    assert got[0] > got[1] > got[2] > got[3] == got[4] > got[5]


def test_answer_is_not_scored_where_no_text_answer_is_due() -> None:
    """Calls or the refusal due: the whole group is None (and so is a table without answer/facts columns)."""
    texts = ["It is 30°C in Hanoi.", tagged(OSLO), REFUSAL]
    for truth in (ONE, NONE):
        assert rewards.answer_reward(texts, [truth] * 3, [TOOLS] * 3, answer=[""] * 3, facts=["[]"] * 3,
                                     language=["en"] * 3) == [None] * 3
    assert rewards.answer_reward(texts, [NONE] * 3, [TOOLS] * 3) == [None] * 3


ANSWER_TEXT = "It is 30°C in Hanoi."
WORDY = "Here is what I found: it is 30°C in Hanoi, with clear skies all day, light wind and no rain expected."

# The other rewards where a text answer is due. (case, completion, format, correctness, refusal, efficiency)
TEXT_DUE_CASES = [
    ("the answer", ANSWER_TEXT, 1.0, None, 0.0, 1.0),
    ("a wordy answer", WORDY, 1.0, None, 0.0, len(HANOI["answer"]) / len(WORDY)),
    ("a wrong answer is still text", "I hope you have a nice day.", 1.0, None, 0.0,
     min(1.0, len(HANOI["answer"]) / len("I hope you have a nice day."))),
    ("the refusal sentence is not paid", REFUSAL, 1.0, None, FALSE_REFUSAL, 0.0),
    ("a call", tagged(OSLO), 1.0, None, FALSE_CALL, 0.0),
    ("a fenced call", FENCED, FORMAT_CREDIT["json_fence"], None, FALSE_CALL, 0.0),
    ("thinking, then the answer", "<think>30 in Hanoi.</think>" + ANSWER_TEXT, 1.0, None, 0.0,
     min(1.0, len(HANOI["answer"]) / len("<think>30 in Hanoi.</think>" + ANSWER_TEXT)) * THINK_FACTOR),
    ("empty", "", 0.0, None, 0.0, 0.0),
]


@pytest.mark.parametrize("name", ["format", "correctness", "refusal", "efficiency"])
@pytest.mark.parametrize(("case", "text", "fmt", "correct", "refusal", "eff"), TEXT_DUE_CASES,
                         ids=[c[0] for c in TEXT_DUE_CASES])
def test_the_other_rewards_where_a_text_answer_is_due(name: str, case: str, text: str, fmt: float,
                                                      correct: float | None, refusal: float, eff: float) -> None:
    expected = {"format": fmt, "correctness": correct, "refusal": refusal, "efficiency": eff}[name]
    for completion, calls, tools in _forms(text, NONE):
        [got] = REWARDS[name]([completion], [calls], [tools], answer=[HANOI["answer"]], facts=[HANOI["facts"]],
                              language=["en"])
        assert got == (None if expected is None else pytest.approx(expected)), (case, name, completion)


def test_an_empty_or_garbage_answer_never_wins_on_efficiency() -> None:
    for truth in (ONE, NONE):
        losers = rewards.efficiency_reward(["", "garbage", "{\"name\": 1}"], [truth] * 3, [TOOLS] * 3)
        due = tagged(OSLO) if truth else REFUSAL
        [winner] = rewards.efficiency_reward([due], [truth], [TOOLS])
        assert max(losers) == 0.0 < winner


def test_efficiency_prefers_the_shorter_of_two_right_answers() -> None:
    compact, pretty = rewards.efficiency_reward([json.dumps(OSLO), FENCED + "\n\nThis gets the weather."],
                                                [ONE, ONE], [TOOLS, TOOLS])
    assert compact == 1.0 > pretty > 0.0


def test_without_a_tools_column_no_call_is_unknown() -> None:
    call = tagged({"name": "book_flight", "arguments": {}})
    truth = [{"name": "book_flight", "arguments": {}}]
    assert rewards.efficiency_reward([call], [truth]) == [1.0]
    assert rewards.correctness_reward([call], [truth]) == [1.0]
    assert rewards.efficiency_reward([call], [truth], [[]]) == [0.0]  # a no_tools negative offers nothing


def test_an_empty_expected_call_set_is_scored_by_refusal_only() -> None:
    assert rewards.correctness_reward([REFUSAL, tagged(OSLO)], ["[]", "[]"], ["[]", "[]"]) == [None, None]


def test_correctness_stays_in_zero_one_for_many_repeated_calls() -> None:
    [score] = rewards.correctness_reward([tagged(*[OSLO] * 20)], [ONE], [TOOLS])
    assert score == pytest.approx(1 / 20)


def test_nested_object_arguments_earn_partial_credit() -> None:
    truth = [{"name": "get_weather", "arguments": {"city": "Oslo", "where": {"lat": 59.9, "lon": 10.7}}}]
    answer = tagged({"name": "get_weather", "arguments": {"city": "Oslo", "where": {"lat": 59.9, "lon": 0}}})
    [score] = rewards.correctness_reward([answer], [truth], [TOOLS])
    assert score == pytest.approx(NAME_CREDIT + (1 - NAME_CREDIT) * (1 + 0.5) / 2)


def test_bools_are_not_numbers() -> None:
    truth = [{"name": "get_weather", "arguments": {"city": "Oslo", "days": 1}}]
    answer = tagged({"name": "get_weather", "arguments": {"city": "Oslo", "days": True}})
    [score] = rewards.correctness_reward([answer], [truth], [TOOLS])
    assert score == pytest.approx(NAME_CREDIT + (1 - NAME_CREDIT) / 2)


def test_parsed_tool_calls_in_a_conversational_completion_read_as_tags() -> None:
    message = {"role": "assistant", "content": "",
               "tool_calls": [{"type": "function", "function": {"name": "get_weather",
                                                                "arguments": json.dumps({"city": "Oslo"})}}]}
    assert "<tool_call>" in completion_text([message])
    assert rewards.format_reward([[message]], [ONE], [TOOLS]) == [1.0]
    assert rewards.correctness_reward([[message]], [ONE], [TOOLS]) == [1.0]


def test_a_batch_whose_columns_do_not_line_up_is_a_loud_error() -> None:
    with pytest.raises(ValueError):
        rewards.format_reward([REFUSAL, REFUSAL], ["[]"], None)


def test_batch_metrics() -> None:
    completions = [REFUSAL, tagged(OSLO), "I cannot.",  # three negatives: one false call
                   REFUSAL, FENCED, tagged(OSLO), THINKING, ""]  # five positives: one false refusal
    truths = [NONE] * 3 + [ONE] * 5
    metrics = batch_metrics(completions, [json.dumps(t) for t in truths], [json.dumps(TOOLS)] * 8)
    assert metrics["false_call_rate"] == pytest.approx(1 / 3)
    assert metrics["false_refusal_rate"] == pytest.approx(1 / 5)
    assert metrics["tag_rate"] == pytest.approx(3 / 4)  # call answers: tagged (negative), fenced, tagged, thinking
    assert metrics["think_rate"] == pytest.approx(1 / 8)
    assert metrics["mean_completion_length"] == pytest.approx(sum(map(len, completions)) / 8)
    assert (metrics["negatives"], metrics["positives"], metrics["call_answers"]) == (3.0, 5.0, 4.0)
    assert metrics["answers"] == 0.0 and math.isnan(metrics["answer_call_rate"])
    conversational = [[{"role": "assistant", "content": text}] for text in completions]
    assert batch_metrics(conversational, truths, [TOOLS] * 8) == pytest.approx(metrics, nan_ok=True)


def test_batch_metrics_count_text_answers_apart() -> None:
    """A row due a text answer is neither a negative nor a positive: a call there is an answer_call, not a false call."""
    completions = [tagged(OSLO), "It is 30°C in Hanoi.", REFUSAL]
    metrics = batch_metrics(completions, ["[]"] * 3, [TOOLS] * 3, answer=[HANOI["answer"]] * 2 + [""],
                            facts=[HANOI["facts"]] * 2 + ["[]"])
    assert (metrics["answers"], metrics["negatives"], metrics["positives"]) == (2.0, 1.0, 0.0)
    assert metrics["answer_call_rate"] == 0.5 and metrics["false_call_rate"] == 0.0


def test_batch_metrics_without_a_denominator_are_nan() -> None:
    metrics = batch_metrics([REFUSAL], ["[]"])
    assert metrics["false_call_rate"] == 0.0
    assert math.isnan(metrics["false_refusal_rate"]) and math.isnan(metrics["tag_rate"])


def test_trl_reward_plumbing() -> None:
    """TRL's own GRPOTrainer._calculate_rewards runs the rewards on dataset rows, as in a training step."""
    torch = pytest.importorskip("torch")
    datasets = pytest.importorskip("datasets")
    trl = pytest.importorskip("trl")
    from transformers import TrainerState

    common = {"answer": "", "facts": "[]", "family": "", "messages": "[]", "tools": json.dumps(TOOLS)}
    records = [{**common, "prompt": "<|im_start|>user\nWeather in Oslo?<|im_end|>\n", "calls": json.dumps(ONE),
                "id": "synthetic:0", "source": "synthetic", "negative_type": "", "language": "en", "family": "single"},
               {**common, "prompt": "<|im_start|>user\nBook a flight.<|im_end|>\n", "calls": "[]",
                "id": "negatives:0", "source": "negatives", "negative_type": "domain_mismatch", "language": "vi"},
               {**common, **HANOI, "prompt": "<|im_start|>tool\n{\"temp\": 30}<|im_end|>\n", "calls": "[]",
                "id": "synthetic:1", "source": "synthetic", "negative_type": "", "family": "after_result"}]
    inputs = list(datasets.Dataset.from_list(records))  # rows as the trainer's dataloader yields them
    inputs = [inputs[0], inputs[0], inputs[1], inputs[1], inputs[2], inputs[2]]  # two generations per prompt
    completions = [tagged(OSLO), FENCED, REFUSAL, tagged(OSLO), ANSWER_TEXT, REFUSAL]
    funcs = list(REWARDS.values())
    logged: list[Any] = []
    trainer = types.SimpleNamespace(
        accelerator=types.SimpleNamespace(device=torch.device("cpu"), is_main_process=True),
        state=TrainerState(), args=types.SimpleNamespace(report_to=[]), reward_funcs=funcs,
        reward_processing_classes=[None] * len(funcs), reward_func_names=[f.__name__ for f in funcs],
        environments=None, _log_completion_extra=lambda *a, **k: None, _log_metric=lambda *a, **k: logged.append(a))
    table = trl.GRPOTrainer._calculate_rewards(trainer, inputs, [row["prompt"] for row in inputs], completions,
                                                [[1, 2, 3]] * len(inputs))
    nan = math.nan
    # columns: format, correctness, refusal, efficiency, answer
    expected = [[1.0, 1.0, 0.0, 1.0, nan],
                [FORMAT_CREDIT["json_fence"], 1.0, 0.0, efficiency(FENCED, ONE), nan],
                [1.0, nan, RIGHT_REFUSAL, 1.0, nan],
                [1.0, nan, FALSE_CALL, 0.0, nan],
                [1.0, nan, 0.0, 1.0, 1.0],
                [1.0, nan, FALSE_REFUSAL, 0.0, 0.0]]
    assert torch.allclose(table, torch.tensor(expected), equal_nan=True)

    # The same call shape by hand, conversational completions and every column as keyword arguments.
    columns = {key: [row[key] for row in inputs] for key in inputs[0] if key != "prompt"}
    for column, func in enumerate(funcs):
        got = func(prompts=[row["prompt"] for row in inputs],
                   completions=[[{"role": "assistant", "content": c}] for c in completions],
                   completion_ids=[[1, 2, 3]] * len(inputs), trainer_state=None, log_extra=None, log_metric=None,
                   **columns)
        assert [math.nan if g is None else g for g in got] == pytest.approx([row[column] for row in expected],
                                                                              nan_ok=True), func.__name__
