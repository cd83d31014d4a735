"""Device clocks are sometimes wrong: measure the offset, correct the time a worker acted."""

from __future__ import annotations

from datetime import datetime, timedelta

# A command queued longer than this is still accepted, but its time is not
# trusted further back than this (a phone whose clock reset to 1970).
MAX_QUEUE_AGE = timedelta(days=30)


def offset_seconds(device_sent_at: datetime | None, server_now: datetime) -> float:
    """Server clock minus device clock, measured when a batch arrives."""
    if device_sent_at is None:
        return 0.0
    return (server_now - device_sent_at).total_seconds()


def corrected(device_time: datetime | None, offset: float, server_now: datetime) -> datetime:
    """When the worker acted, on the server's clock; never in the future, never absurdly old."""
    if device_time is None:
        return server_now
    at = device_time + timedelta(seconds=offset)
    return max(min(at, server_now), server_now - MAX_QUEUE_AGE)
