"""BFCL accuracy for `edgefc bench`: data read from the pinned bfcl-eval wheel, BFCL's Qwen FC prompt, an
independent AST checker that agrees with bfcl-eval's verdict by verdict, and BFCL's score groups."""
