"""Snapshots: plain data read from targets, which the checks judge without any I/O."""
