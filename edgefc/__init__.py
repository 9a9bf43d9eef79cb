"""edgefc: put a small function-calling language model on an edge device and prove it still works."""

from edgefc.protocol.parse import REFUSAL, ParseResult, ToolCall, parse, to_bfcl
from edgefc.protocol.render import ChatTemplate
from edgefc.protocol.schema import normalize_tools

__version__ = "0.1.0"
__all__ = ["REFUSAL", "ChatTemplate", "ParseResult", "ToolCall", "__version__", "normalize_tools", "parse",
           "to_bfcl"]
