"""The reference stack: every system of the five runbooks, healthy, on loopback (or compose)."""
