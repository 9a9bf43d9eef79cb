"""A model served elsewhere, behind any OpenAI-compatible endpoint (edgefc serve, llama.cpp's server, Ollama, vLLM).

The prompt is rendered here, with the chat template of a local copy of the model (a GGUF file, or a folder with
tokenizer.json and the template), and sent as text to the endpoint's `/v1/completions`; the answer is parsed here.
So bench and chat read the served model exactly as they read a local one, and the same BFCL scorer measures it.
The endpoint decodes freely: `/v1/completions` carries no tool grammar, so constrained decoding (and a
`tool_choice` other than "auto") is refused rather than silently dropped.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from edgefc.errors import EdgefcError, EndpointError, ModelError, require
from edgefc.protocol.constrain import Constraint, GrammarVocab
from edgefc.protocol.parse import parse
from edgefc.protocol.render import ChatTemplate
from edgefc.runtimes.base import Clock, Completion, Generation, Runtime, Sampling, TokenSink
from edgefc.runtimes.llamacpp import gguf_chat_template

API_KEY_ENV = "OPENAI_API_KEY"  # the key sent as a bearer token, where the endpoint wants one
TIMEOUT_S = 600.0  # one answer may take minutes on a slow CPU server


class _LocalVocab:
    """Tokenizer and chat template of the local copy: a GGUF's (vocabulary only, no weights loaded), or a folder's
    tokenizer.json and template."""

    def __init__(self, path: Path):
        if path.is_file():
            llama_cpp = require("llama_cpp")
            try:  # a vocabulary-only context knows no training length, and llama.cpp warns about it: not news
                with contextlib.redirect_stderr(io.StringIO()):
                    self.llm = llama_cpp.Llama(str(path), vocab_only=True, verbose=False)
            except ValueError as exc:
                raise ModelError(f"llama.cpp cannot read the vocabulary of {path}: {exc}") from exc
            self.template = gguf_chat_template(self.llm, path)
            return
        tokenizers = require("tokenizers", "onnx")
        if not (path / "tokenizer.json").is_file():
            raise ModelError(f"{path} has no tokenizer.json: give the GGUF file or the model folder the endpoint serves")
        self.llm = None
        self.tokenizer = tokenizers.Tokenizer.from_file(str(path / "tokenizer.json"))
        self.template = ChatTemplate.from_hf_dir(path)

    def tokenize(self, text: str) -> list[int]:
        if self.llm is not None:
            return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def detokenize(self, tokens: Sequence[int]) -> str:
        if self.llm is not None:
            return self.llm.detokenize(list(tokens), special=True).decode("utf-8", errors="replace")
        return self.tokenizer.decode(list(tokens), skip_special_tokens=False)


class RemoteRuntime(Runtime):
    """The model behind `endpoint` (a base URL such as http://127.0.0.1:8000/v1), read through the local copy at
    `path` (its template renders the prompts, its tokenizer counts what the server does not report)."""

    name = "remote"
    format = "endpoint"
    takes_grammar = False  # its /v1/completions carries no grammar: the server decodes freely

    def __init__(self, path: Path, endpoint: str, *, served_model: str | None = None):
        openai = require("openai", "remote")
        self._openai, self._transport_errors = openai, _transport_errors()
        self._vocab = _LocalVocab(path)
        super().__init__(path, self._vocab.template, None)
        self.endpoint = endpoint.rstrip("/")
        base = self.endpoint if self.endpoint.endswith("/v1") else f"{self.endpoint}/v1"
        self.client = openai.OpenAI(base_url=base, api_key=os.environ.get(API_KEY_ENV) or "none",
                                    timeout=TIMEOUT_S, max_retries=0)
        self.served_model = served_model or self._first_model()

    def _first_model(self) -> str:
        """The model the endpoint lists first (edgefc serve and llama.cpp's server list one)."""
        listed = self._call(lambda: self.client.models.list())
        names = [m.id for m in listed.data]
        if not names:
            raise EndpointError(f"{self.endpoint} lists no model at /v1/models; name one with --endpoint-model")
        return names[0]

    def _call(self, request: Any) -> Any:
        """Run one client request, its failures as one sentence: a 4xx is this request's fault (EdgefcError), the
        rest means the endpoint itself is down or broken (EndpointError)."""
        try:
            return request()
        except self._openai.APIStatusError as exc:
            message = _message(exc)
            if 400 <= exc.status_code < 500 and exc.status_code not in (401, 403, 404, 429):
                raise EdgefcError(f"{self.endpoint} refused the request ({exc.status_code}): {message}") from None
            hint = f" (set {API_KEY_ENV})" if exc.status_code in (401, 403) else ""
            raise EndpointError(f"{self.endpoint} answered {exc.status_code}: {message}{hint}") from None
        except (self._openai.APIError, *self._transport_errors) as exc:  # refused, timed out, cut mid-stream
            raise EndpointError(f"cannot use {self.endpoint}: {exc}") from None

    def answer(self, prompt: str, tools: Any = None, *, max_tokens: int = 256, sampling: Sampling = Sampling(),
               enable_thinking: bool = False, constrain: bool | None = None, tool_choice: Any = "auto",
               parallel_tool_calls: bool = True, jump_forward: bool = True,
               on_tokens: TokenSink | None = None) -> Generation:
        """Send the rendered prompt to the endpoint and parse its answer (free decoding: see the module doc)."""
        self.constraint(tools, tool_choice, parallel_tool_calls, constrain=constrain)
        text, finish, timings = self._request(prompt, max_tokens, sampling, on_tokens)
        return Generation(self.name, prompt, text, parse(text, tools), self.tokenize(text), finish, timings)

    def constraint(self, tools: Any, tool_choice: Any = "auto", parallel_tool_calls: bool = True, *,
                   constrain: bool | None = None, jump_forward: bool = True, thinking: bool = False,
                   greedy: bool = False) -> Constraint | None:
        """None (free decoding) by default; constrained decoding cannot travel through /v1/completions."""
        if constrain or tool_choice != "auto":
            raise EdgefcError("an endpoint generates through its /v1/completions, which carries no tool grammar: "
                              "decode freely (--constrain off, --free) with tool_choice 'auto'")
        return None

    def _request(self, prompt: str, max_tokens: int, sampling: Sampling,
                 on_tokens: TokenSink | None) -> tuple[str, str, Any]:
        """Stream one completion: its text, finish reason and timings (TTFT from the first text chunk)."""
        clock = Clock()
        options: dict[str, Any] = {"temperature": sampling.temperature, "top_p": sampling.top_p}
        if not sampling.greedy:
            options["seed"] = sampling.seed
        stream = self._call(lambda: self.client.completions.create(
            model=self.served_model, prompt=prompt, max_tokens=max_tokens, stream=True,
            stream_options={"include_usage": True}, **options))
        parts: list[str] = []
        finish, usage = None, None
        try:
            for chunk in _chunks(stream, self._call):
                usage = chunk.usage or usage
                for choice in chunk.choices:
                    if choice.text:
                        parts.append(choice.text)
                        clock.token()
                        if on_tokens is not None and not on_tokens(self.tokenize(choice.text)):
                            raise _Stopped
                    finish = choice.finish_reason or finish
        except _Stopped:
            stream.close()
            finish = "stop"
        if finish is None:  # the body ended before any finish_reason: a cut connection, not an answer
            raise EndpointError(f"{self.endpoint} ended its stream before the answer finished")
        text = "".join(parts)
        prompt_tokens = usage.prompt_tokens if usage else len(self.tokenize(prompt))
        completion_tokens = usage.completion_tokens if usage else len(self.tokenize(text))
        details = getattr(usage, "prompt_tokens_details", None) if usage else None
        cached = (getattr(details, "cached_tokens", None) or 0) if details else 0
        clock.steps = max(clock.steps, completion_tokens)  # chunks may carry several tokens each
        return text, "length" if finish == "length" else "stop", clock.timings(prompt_tokens, completion_tokens,
                                                                                cached)

    def tokenize(self, prompt: str) -> list[int]:
        return self._vocab.tokenize(prompt)

    def detokenize(self, tokens: Sequence[int]) -> str:
        return self._vocab.detokenize(tokens)

    def complete(self, prompt_tokens: list[int], *, max_tokens: int, sampling: Sampling,
                 constraint: Constraint | None = None, on_tokens: TokenSink | None = None) -> Completion:
        if constraint is not None:
            self.constraint(None, constrain=True)
        text, finish, timings = self._request(self.detokenize(prompt_tokens), max_tokens, sampling, on_tokens)
        return Completion(self.tokenize(text), finish, timings)

    def _grammar_vocab(self) -> GrammarVocab:
        raise EdgefcError("an endpoint decodes on its own side: edgefc's tool grammar cannot steer it")

    def logits(self, tokens: list[int], last: int) -> np.ndarray:
        raise EdgefcError("an OpenAI-compatible endpoint does not return logits: verify exports on a local runtime")

    def close(self) -> None:
        self.client.close()
        if self._vocab.llm is not None:
            self._vocab.llm.close()


def _transport_errors() -> tuple[type[Exception], ...]:
    """The HTTP library errors the openai client lets through while a stream is read: httpx2's (openai 3.x) or
    httpx's (earlier releases), whichever are installed."""
    errors = []
    for module in ("httpx2", "httpx"):
        try:
            errors.append(importlib.import_module(module).HTTPError)
        except ImportError:
            continue
    return tuple(errors)


class _Stopped(Exception):
    """The caller's token sink asked to stop: the stream is closed early."""


def _chunks(stream: Any, call: Any) -> Iterable[Any]:
    """The stream's chunks, a broken connection mid-answer reported like any endpoint failure."""
    iterator = iter(stream)
    while True:
        chunk = call(lambda: next(iterator, None))
        if chunk is None:
            return
        yield chunk


def _message(exc: Any) -> str:
    """The error message an OpenAI-shaped error body carries, or the HTTP reason."""
    body = exc.body if isinstance(exc.body, dict) else {}
    error = body.get("error", body)
    return str(error.get("message") if isinstance(error, dict) and error.get("message") else exc.message)

