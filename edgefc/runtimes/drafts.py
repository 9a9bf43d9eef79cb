"""Prompt-lookup drafts: a tool call's argument values are mostly copied from the request (names, cities, numbers,
dates), so while a call is inside a JSON string or number, the text that follows the value so far where the
prompt holds it is a good guess of what comes next. The decoding loop (decode.py) evaluates such a draft in one
batch and keeps the prefix the model agrees with: under greedy decoding the tokens are those it would have picked
one at a time, in fewer forward passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Callable, Sequence

from edgefc.protocol.parse import TAGS

CALL_OPEN, CALL_CLOSE = TAGS["call_open"], TAGS["call_close"]
_NUMBER = frozenset("0123456789.eE+-")


@dataclass
class JsonValueScanner:
    """Follows an answer's text as it is generated: whether it is inside a tool call's JSON string or number, and
    that value's text so far."""

    in_call: bool = False
    in_string: bool = False
    escaped: bool = False
    in_number: bool = False
    value: str = ""  # the current string's or number's characters so far, as written
    last: str = ""  # the last character outside strings and spaces
    _tail: str = ""  # the last characters seen, to find the call tags across token boundaries

    def feed(self, text: str) -> None:
        """Advance over newly generated text."""
        for ch in text:
            self._tail = (self._tail + ch)[-len(CALL_CLOSE):]
            if not self.in_call:
                self.in_call = self._tail.endswith(CALL_OPEN)
                continue
            if self.in_string:
                if self.escaped:
                    self.escaped = False
                elif ch == "\\":
                    self.escaped = True
                elif ch == '"':
                    self.in_string = False
                    continue
                self.value += ch
                continue
            if self._tail.endswith(CALL_CLOSE):
                self.in_call, self.in_number, self.last = False, False, ""
                continue
            if ch == '"':
                self.in_string, self.in_number, self.value = True, False, ""
            elif ch in _NUMBER and (self.in_number or self.last in (":", ",", "[")):
                self.value = self.value + ch if self.in_number else ch
                self.in_number = True
            elif not ch.isspace() or self.in_number:
                self.in_number = False
            if not ch.isspace():
                self.last = ch

    @property
    def in_value(self) -> bool:
        return self.in_call and (self.in_string or self.in_number)


@dataclass
class PromptLookup:
    """Drafts from the prompt's text: inside a JSON string or number, find the longest tail of the value so far
    (up to `max_match` characters) in the prompt, its latest copy first (the request and tool results come after
    the tools text), and draft the tokens of the `max_chars` characters that follow it, at most `max_draft`.

    Matching text rather than token ids finds a value that starts mid-word ("Nguyễn" is one token after a
    space in the request and two after the JSON quote)."""

    prompt: Sequence[int]
    detokenize: Callable[[Sequence[int]], str]
    tokenize: Callable[[str], list[int]]
    max_draft: int = 8
    max_match: int = 32
    max_chars: int = 48
    scanner: JsonValueScanner = field(default_factory=JsonValueScanner)
    _held: list[int] = field(default_factory=list)  # tokens that end inside a character, fed once it is whole

    @cached_property
    def _text(self) -> str:
        """The prompt's text, spelled once an answer first drafts (never for answers that reach no value)."""
        return self.detokenize(self.prompt)

    def accept(self, tokens: Sequence[int]) -> None:
        """The answer grew by `tokens` (picked, forced or accepted from a draft)."""
        self._held += tokens
        text = self.detokenize(self._held)
        if not text.endswith("\ufffd"):
            self.scanner.feed(text)
            self._held = []

    def propose(self) -> list[int]:
        """The draft for the next tokens: empty outside values, at a value's first token, or where the prompt
        holds no tail of the value."""
        value = self.scanner.value
        if not self.scanner.in_value or not value or self._held:
            return []
        for n in range(min(len(value), self.max_match), 0, -1):
            at = self._text.rfind(value[-n:])
            if at >= 0:
                follow = self._text[at + n:at + n + self.max_chars]
                return self.tokenize(follow)[:self.max_draft] if follow else []
        return []
