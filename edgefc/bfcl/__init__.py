"""The Berkeley Function-Calling Leaderboard as a library of the core: its category table, data read from the pinned
bfcl-eval wheel, BFCL's Qwen FC prompt and decoding, an independent AST checker that agrees with bfcl-eval's verdict
by verdict, its score groups and the statistics of accuracy figures. `edgefc bench`, export's probes and train's
held-out scoring and rewards all read it."""
