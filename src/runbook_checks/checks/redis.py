"""Redis checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runbook_checks.errors import CheckFailed

if TYPE_CHECKING:
    from runbook_checks.targets.redis import Memory, Ping

# what Redis does when maxmemory is reached; with `noeviction` every write fails (OOM) instead
POLICIES = ("noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu",
            "volatile-random", "volatile-ttl")


def answers_ping(ping: Ping) -> None:
    """Redis answers PING with PONG."""
    if not ping.answered:
        raise CheckFailed("PING answered with PONG", "an unexpected reply",
                          "check that the URL points at Redis and not another service")


def memory_bounded(label: str, memory: Memory, policies: list[str]) -> None:
    """The server has a memory limit and, on reaching it, evicts by one of the declared policies
    (without a limit Redis grows until the machine kills it; under `noeviction` writes fail)."""
    wanted = " or ".join(policies)
    unknown = [policy for policy in policies if policy not in POLICIES]
    if unknown or not policies:
        raise CheckFailed(f"{label}: eviction policies Redis has ({', '.join(POLICIES)})",
                          f"declared: {', '.join(unknown) or 'none'}",
                          "correct the declared eviction policies")
    if memory.limit_bytes <= 0:
        raise CheckFailed(f"{label}: maxmemory set, evicting by {wanted}",
                          "maxmemory 0: no limit, the server grows until the machine runs out of memory",
                          "set maxmemory (about 3/4 of the memory the server may use) and "
                          f"maxmemory-policy {policies[0]} in its configuration")
    if memory.policy not in policies:
        cause = ": writes fail with OOM once it is full" if memory.policy == "noeviction" else ""
        raise CheckFailed(f"{label}: maxmemory-policy {wanted}", f"maxmemory-policy {memory.policy}{cause}",
                          f"set maxmemory-policy {policies[0]} in its configuration")


def memory_headroom(label: str, memory: Memory, percent: float) -> None:
    """The server uses less than `percent` of its memory limit; with no limit there is nothing to
    measure the use against, and the check cannot pass."""
    if memory.limit_bytes <= 0:
        raise CheckFailed(f"{label}: memory used under {percent:g}% of maxmemory",
                          f"no maxmemory to measure {_mib(memory.used_bytes)} used against",
                          "set maxmemory so that the use can be judged and bounded")
    used = 100 * memory.used_bytes / memory.limit_bytes
    if used >= percent:
        raise CheckFailed(f"{label}: memory used under {percent:g}% of maxmemory",
                          f"{used:.0f}% used ({_mib(memory.used_bytes)} of {_mib(memory.limit_bytes)})",
                          "find what fills it (redis-cli --bigkeys, MEMORY STATS), expire or trim it, "
                          "or raise maxmemory")


def _mib(count: int) -> str:
    return f"{count / 2**20:.1f} MiB"
