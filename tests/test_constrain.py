"""The constraint engine: masks, end of turn, jump-forward and steering on the real Qwen vocabulary, and random
tiny models decoded under the grammar with plain loops (llama.cpp and transformers), no runtime involved.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

from edgefc.protocol.constrain import Constraint, GrammarVocab
from edgefc.protocol.grammar import tool_grammar
from edgefc.protocol.parse import format_tool_calls, parse
from edgefc.protocol.render import ChatTemplate
from tests.test_grammar import END_OF_TURN, call_tokens, valid

N_VOCAB = 151936  # logits rows of Qwen checkpoints: wider than the tokenizer
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather forecast for a city",
                                           "parameters": {"type": "object", "properties": {
                                               "city": {"type": "string", "enum": ["Tokyo", "Paris"]},
                                               "days": {"type": "integer", "minimum": 1, "maximum": 7},
                                               "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                                               "required": ["city", "days", "unit"]}}},
         {"type": "function", "function": {"name": "get_time", "description": "Local time in a city",
                                           "parameters": {"type": "object", "properties": {
                                               "city": {"type": "string", "enum": ["Tokyo", "Paris"]}},
                                               "required": ["city"]}}}]
CALL = {"name": "get_weather", "arguments": {"city": "Tokyo", "days": 3, "unit": "celsius"}}


@pytest.fixture(scope="module")
def hf_vocab(tiny_qwen3: Path) -> tuple[GrammarVocab, Any]:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(tiny_qwen3 / "tokenizer.json"))
    return GrammarVocab.from_hf(tokenizer, END_OF_TURN), tokenizer


@pytest.fixture(scope="module")
def llama(tiny_gguf: Path) -> Any:
    llama_cpp = pytest.importorskip("llama_cpp")
    llm = llama_cpp.Llama(str(tiny_gguf), n_ctx=1024, n_threads=1, n_threads_batch=1, verbose=False)
    yield llm
    llm.close()


@pytest.fixture(scope="module")
def gguf_vocab(llama: Any) -> GrammarVocab:
    import llama_cpp

    return GrammarVocab.from_llama(llama_cpp.llama_model_get_vocab(llama.model))


def test_vocab_from_gguf_and_tokenizer_json_agree(gguf_vocab: GrammarVocab, hf_vocab: tuple[GrammarVocab, Any]) -> None:
    hf, _ = hf_vocab
    assert gguf_vocab.special_tags == hf.special_tags == {"<tool_call>", "</tool_call>", "<think>", "</think>"}
    assert set(END_OF_TURN) <= gguf_vocab.end_of_turn and hf.end_of_turn == set(END_OF_TURN)
    ids = call_tokens(hf, [CALL])
    assert ids == call_tokens(gguf_vocab, [CALL])
    for vocab in (gguf_vocab, hf):
        constraint = Constraint(vocab, tool_grammar(TOOLS, "required"), jump_forward=False)
        for token in ids:
            assert constraint.allowed(N_VOCAB)[token]
            assert constraint.advance(token) == []
        assert constraint.accepting


def test_mask_forbids_end_of_turn_until_the_call_is_closed(hf_vocab: tuple[GrammarVocab, Any]) -> None:
    vocab, _ = hf_vocab
    constraint = Constraint(vocab, tool_grammar(TOOLS, "required", parallel_tool_calls=False), jump_forward=False)
    for token in call_tokens(vocab, [CALL]):
        logits = np.zeros(N_VOCAB, dtype=np.float32)
        constraint.mask(logits)
        assert logits[token] == 0 and np.all(logits[list(END_OF_TURN)] == -np.inf)
        assert np.all(logits[vocab.tokenizer.vocab_size:] == -np.inf)  # rows the tokenizer has no token for
        assert not constraint.accepting and not constraint.done
        constraint.advance(token)
    logits = np.zeros(N_VOCAB, dtype=np.float32)
    constraint.mask(logits)
    assert constraint.accepting and np.all(logits[list(END_OF_TURN)] == 0)
    assert set(np.flatnonzero(logits == 0)) == set(END_OF_TURN) | set(vocab.tokenizer.greedy_tokenize("\n"))


def test_jump_forward_returns_the_forced_tokens(hf_vocab: tuple[GrammarVocab, Any]) -> None:
    vocab, tokenizer = hf_vocab
    ids = call_tokens(vocab, [CALL])
    grammar = tool_grammar(TOOLS, {"type": "function", "function": {"name": "get_weather"}})
    constraint = Constraint(vocab, grammar)
    forced = constraint.advance(ids[0])  # <tool_call>: the name and "arguments" are the only continuation
    text = tokenizer.decode(forced, skip_special_tokens=False)
    assert text.startswith('\n{"name": "get_weather", "arguments": {"city":')
    assert format_tool_calls([CALL]).startswith("<tool_call>" + text)
    assert Constraint(vocab, grammar, jump_forward=False).advance(ids[0]) == []


def test_a_token_the_mask_forbids_is_our_bug(hf_vocab: tuple[GrammarVocab, Any]) -> None:
    vocab, _ = hf_vocab
    constraint = Constraint(vocab, tool_grammar(TOOLS, "required"))
    with pytest.raises(RuntimeError, match="broke the tool grammar"):
        constraint.advance(vocab.tokenizer.greedy_tokenize("Hello")[0])


@pytest.mark.parametrize("fence, text, choice, steer, winner", [
    (8.0, 5.0, "auto", True, "<tool_call>"),  # the model means a call, in its fenced habit: it calls
    (2.0, 5.0, "auto", True, "Sure"),  # it means to answer: it answers
    (8.0, 5.0, "auto", False, "Sure"),  # unsteered, the forbidden fence hands the turn to prose
    (8.0, 5.0, "none", True, "Sure"),  # none never calls
])
def test_steering_moves_disguised_call_openers_onto_the_tag(fence: float, text: float, choice: str, steer: bool,
                                                           winner: str, hf_vocab: tuple[GrammarVocab, Any]) -> None:
    vocab, tokenizer = hf_vocab
    words = ("```", '{"', "Sure", "<tool_call>")
    ids = {word: tokenizer.encode(word, add_special_tokens=False).ids[0] for word in words}
    logits = np.full(N_VOCAB, -30.0, dtype=np.float32)
    logits[[ids["```"], ids['{"']]] = fence
    logits[ids["Sure"]] = text
    logits[ids["<tool_call>"]] = -10.0
    Constraint(vocab, tool_grammar(TOOLS, choice), steer=steer).mask(logits)
    assert int(np.argmax(logits)) == ids[winner]


@pytest.mark.parametrize("greedy, winner", [(False, "<tool_call>"), (True, "Sure")])
def test_greedy_steering_weighs_the_call_against_all_text(greedy: bool, winner: str,
                                                          hf_vocab: tuple[GrammarVocab, Any]) -> None:
    """Call openers hold 45% of the mass, spread text 55% with no word above 21%: sampling keeps the 45%
    chance of a call (the tag outweighs any one word), greedy answers in text."""
    vocab, tokenizer = hf_vocab
    ids = {w: tokenizer.encode(w, add_special_tokens=False).ids[0] for w in ("```", '{"', "To", "Sure", "The",
                                                                            "<tool_call>")}
    logits = np.full(N_VOCAB, -30.0, dtype=np.float32)
    logits[[ids["```"], ids['{"']]] = 2.0
    logits[[ids["To"], ids["Sure"], ids["The"]]] = [1.8, 1.9, 1.7]
    logits[ids["<tool_call>"]] = -10.0
    constraint = Constraint(vocab, tool_grammar(TOOLS), greedy=greedy)
    assert constraint.call_share is None
    z = np.exp(logits.astype(np.float64) - logits.max())
    calls = z[[ids["```"], ids['{"'], ids["<tool_call>"]]].sum()
    constraint.mask(logits)
    assert int(np.argmax(logits)) == ids[winner]
    if greedy:
        assert logits[ids["<tool_call>"]] == -np.inf  # the decision is made: no call opener left
    # what the decision weighed, kept for the benches: the calls' share of call + allowed text mass
    assert constraint.call_share == pytest.approx(0.45, abs=0.02)
    assert constraint.call_share == pytest.approx(calls / (calls + z[[ids["To"], ids["Sure"], ids["The"]]].sum()),
                                                  rel=0.05)


# --- random tiny models under the grammar ------------------------------------------------------


def decode(step: Callable[[list[int]], np.ndarray], prompt: list[int], constraint: Constraint,
           pick: Callable[[np.ndarray], int], max_tokens: int = 120) -> tuple[list[int], str, int]:
    """A plain constrained loop: logits = step(new ids), mask, pick, advance (+ forced ids). Returns the answer
    ids, the finish reason and how many times the model was run."""
    out: list[int] = []
    logits, runs = step(prompt), 1
    while len(out) < max_tokens:
        constraint.mask(logits)
        token = pick(logits)
        if token in constraint.vocab.end_of_turn:
            return out, "stop", runs
        new = [token, *constraint.advance(token)]
        out += new
        if constraint.done:
            return out, "done", runs
        logits, runs = step(new), runs + 1
    return out, "length", runs


def greedy(logits: np.ndarray) -> int:
    return int(np.argmax(logits))


def sampler(seed: int, temperature: float) -> Callable[[np.ndarray], int]:
    rng = np.random.default_rng(seed)

    def pick(logits: np.ndarray) -> int:
        z = logits.astype(np.float64) / temperature
        p = np.exp(z - z.max())
        return int(rng.choice(len(p), p=p / p.sum()))

    return pick


def llama_step(llm: Any) -> Callable[[list[int]], np.ndarray]:
    import llama_cpp

    llm.reset()

    def step(ids: list[int]) -> np.ndarray:
        llm.eval(ids)
        row = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
        return np.ctypeslib.as_array(row, shape=(llm.n_vocab(),)).copy()

    return step


def assert_well_formed(text: str, finish: str, choice: str) -> None:
    """Calls that parse canonically and validate, or (auto/none) text that carries no call."""
    result = parse(text, TOOLS)
    schemas = {tool["function"]["name"]: tool["function"]["parameters"] for tool in TOOLS}
    if result.calls:
        assert choice != "none" and finish in ("stop", "done")
        assert text.rstrip("\n") == format_tool_calls(result.calls)
        assert all(valid(call["arguments"], schemas[call["name"]]) for call in result.calls)
    else:
        assert choice in ("auto", "none") and result.errors == [], text


def _prompt(llm: Any) -> list[int]:
    template = ChatTemplate(llm.metadata["tokenizer.chat_template"])
    text = template.render("What's the weather in Tokyo for the next 3 days?", TOOLS)
    return llm.tokenize(text.encode(), add_bos=False, special=True)


@pytest.mark.parametrize("jump_forward", [True, False])
def test_tiny_gguf_greedy_under_required_writes_a_valid_call(jump_forward: bool, llama: Any,
                                                              gguf_vocab: GrammarVocab) -> None:
    constraint = Constraint(gguf_vocab, tool_grammar(TOOLS, "required"), jump_forward=jump_forward)
    out, finish, runs = decode(llama_step(llama), _prompt(llama), constraint, greedy)
    text = llama.detokenize(out, special=True).decode()
    assert finish in ("stop", "done") and parse(text, TOOLS).calls
    assert_well_formed(text, finish, "required")
    assert (runs < len(out)) == jump_forward  # jump-forward evaluates forced tokens in batches


@pytest.mark.parametrize("choice", ["auto", "none", "required"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tiny_gguf_sampling_under_the_grammar_stays_well_formed(choice: str, seed: int, llama: Any,
                                                                 gguf_vocab: GrammarVocab) -> None:
    constraint = Constraint(gguf_vocab, tool_grammar(TOOLS, choice))
    out, finish, _ = decode(llama_step(llama), _prompt(llama), constraint, sampler(seed, 1.5), max_tokens=60)
    assert_well_formed(llama.detokenize(out, special=True).decode(errors="replace"), finish, choice)


def test_tiny_transformers_model_under_the_grammar(tiny_qwen3: Path, hf_vocab: tuple[GrammarVocab, Any]) -> None:
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    vocab, tokenizer = hf_vocab
    model = transformers.AutoModelForCausalLM.from_pretrained(tiny_qwen3, dtype=torch.float32).eval()
    prompt = ChatTemplate.from_hf_dir(tiny_qwen3).render("Weather in Paris, 2 days?", TOOLS)
    state: dict[str, Any] = {"past": None}

    def step(ids: list[int]) -> np.ndarray:
        with torch.inference_mode():
            out = model(torch.tensor([ids]), past_key_values=state["past"], use_cache=True)
        state["past"] = out.past_key_values
        return out.logits[0, -1].float().numpy().copy()

    constraint = Constraint(vocab, tool_grammar(TOOLS, {"type": "function", "function": {"name": "get_time"}}))
    out, finish, _ = decode(step, tokenizer.encode(prompt, add_special_tokens=False).ids, constraint, greedy)
    text = tokenizer.decode(out, skip_special_tokens=False)
    assert [call["name"] for call in parse(text, TOOLS).calls][:1] == ["get_time"]
    assert_well_formed(text, finish, "required")
