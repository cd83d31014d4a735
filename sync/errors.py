"""What a command can fail with: bad input (Invalid) or a state change that no longer
fits (Rejected)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class Invalid(Exception):
    """Bad input: nothing is stored, the user fixes the form and resends the same op_id."""

    def __init__(self, errors: Mapping[str, Any]):
        super().__init__(dict(errors))
        self.errors = dict(errors)


class Rejected(Exception):
    """A state change that no longer fits. It is recorded, so a replay gets the same answer."""

    def __init__(self, code: str, message: str, current: Mapping[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.current = dict(current or {})
