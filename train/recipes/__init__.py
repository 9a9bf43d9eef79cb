"""Shipped training recipes (YAML), read by edgefc.train.config."""
