"""The command path: every write is a command with an id, applied once.

No Flask here: the web forms, the offline outbox's batch replay and the tests
all call `apply` with a Command and a table of handlers.
"""

from . import clock, fields
from .commands import (
    Command,
    Handler,
    Invalid,
    OnRejected,
    Outcome,
    Rejected,
    acted_time,
    already,
    apply,
    parse_device_time,
    together,
)

__all__ = [
    "clock",
    "fields",
    "Command",
    "Handler",
    "Invalid",
    "OnRejected",
    "Outcome",
    "Rejected",
    "acted_time",
    "already",
    "apply",
    "parse_device_time",
    "together",
]
