"""The catalog of checks: plain functions over facts that raise CheckFailed (expected / found / fix)."""
