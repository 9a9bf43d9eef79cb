"""BFCL multi-turn: entries read from the pinned bfcl-eval wheel, its simulated APIs run in a worker process per
entry, and bfcl-eval's multi-turn rules (per-turn state and execution results) written once."""
