"""Latency, response tokens, memory and BFCL accuracy on CPU, several models side by side (edgefc.bench)."""
