"""`edgefc serve`: the OpenAI API (chat and text completions, tool calls included) over one model on the device."""
