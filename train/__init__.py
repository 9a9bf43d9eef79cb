"""The two-stage GRPO recipe for tool calling: data, rewards, TRL trainer (edgefc.train)."""
