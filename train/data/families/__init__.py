"""Synthetic training data for an on-device agent: tool domains as data (`domain`, `domains/`) and the task
families drawn from them (`generate`)."""
