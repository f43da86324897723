"""One module per kind of thing the checks talk to; each opens lazily, with timeouts, read-only."""
