"""Queue worker checks over what Redis holds: the worker's heartbeat is recent, and its queue is
not backing up. No I/O here; a value that cannot be judged fails."""

from __future__ import annotations

from typing import TYPE_CHECKING

from runbook_checks.errors import CheckFailed

if TYPE_CHECKING:
    from runbook_checks.targets.redis import Heartbeat, QueueDepth

_RESTART = "read the worker's log (its container's or its unit's) for why it stopped beating, then restart it"


def heartbeat_fresh(label: str, heartbeat: Heartbeat, max_seconds: float) -> None:
    """The heartbeat key holds a time in ms since the epoch at most `max_seconds` older than the
    Redis server's clock: a worker that died, hangs or is frozen stops refreshing it. A key that is
    missing, of another type, not a number, or ahead of the server's clock by more than the
    threshold (a skewed clock would hide a frozen worker) fails."""
    expected = f"{label}: {heartbeat.key} refreshed within the last {max_seconds:g} s"
    if heartbeat.kind == "none" or (heartbeat.kind == "string" and heartbeat.value is None):
        raise CheckFailed(expected, f"no key {heartbeat.key}: no worker has written its heartbeat", _RESTART)
    if heartbeat.kind != "string":
        raise CheckFailed(expected, f"{heartbeat.key} is a {heartbeat.kind}, not a string holding a time",
                          "point the heartbeat variable at the key the worker writes")
    try:
        written_ms = int((heartbeat.value or b"").decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        raise CheckFailed(expected, f"{heartbeat.key} holds no time in ms since the epoch "
                                    f"({len(heartbeat.value or b'')} bytes)",
                          "point the heartbeat variable at the key the worker writes") from None
    age = (heartbeat.server_ms - written_ms) / 1000
    if age > max_seconds:
        raise CheckFailed(expected, f"last written {age:.1f} s ago (by Redis's clock)", _RESTART)
    if -age > max_seconds:
        raise CheckFailed(expected, f"written {-age:.1f} s ahead of Redis's clock: its age cannot be judged",
                          "synchronise the worker's clock (NTP) with the server's")


def queue_depth_under(label: str, depth: QueueDepth, limit: int) -> None:
    """The BullMQ queue exists and holds fewer than `limit` jobs waiting for a worker (waiting,
    paused, delayed and prioritized together); a key of another type than BullMQ writes fails,
    since its jobs cannot be counted."""
    expected = f"{label}: fewer than {limit:,} jobs waiting in queue '{depth.queue}'"
    if depth.wrong_types:
        found = "\n".join(f"{key} is a {kind}" for key, kind in sorted(depth.wrong_types.items()))
        raise CheckFailed(expected, found, f"'{depth.prefix}:{depth.queue}' is not a BullMQ queue of this "
                                           "version: correct the queue's name or prefix")
    if not depth.exists:
        raise CheckFailed(expected, f"no queue '{depth.queue}' (no key {depth.prefix}:{depth.queue}:meta): "
                                    "neither a worker nor a producer has used it",
                          "correct the queue's name or the Redis URL, or start the worker")
    if depth.total >= limit:
        parts = ", ".join(f"{part} {count:,}" for part, count in depth.counts.items() if count)
        raise CheckFailed(expected, f"{depth.total:,} jobs ({parts})",
                          "scale the workers out or apply backpressure to the producers; resume a paused "
                          "queue; look at why jobs are slow (the worker's log)")
