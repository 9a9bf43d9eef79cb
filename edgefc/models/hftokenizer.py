"""The one place edgefc loads a Hugging Face tokenizer.

transformers 4.57.3+ warns that any local folder saved by 4.57.x has "an incorrect regex pattern" (a
check meant for Mistral checkpoints that fires on every model type); the warning is false for Qwen and
is filtered here, nothing else.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from edgefc.errors import require


class _FalseMistralRegexWarning(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "fix_mistral_regex" not in record.getMessage()


def load_tokenizer(path: str | Path, **kwargs: Any) -> Any:
    """AutoTokenizer.from_pretrained(path, **kwargs) without the false Mistral-regex warning."""
    transformers = require("transformers", "hf")
    logger = logging.getLogger("transformers.tokenization_utils_base")
    if not any(isinstance(f, _FalseMistralRegexWarning) for f in logger.filters):
        logger.addFilter(_FalseMistralRegexWarning())
    return transformers.AutoTokenizer.from_pretrained(path, **kwargs)
