"""Reading a check's failure whole: what it expected, what it found, and the fix it gives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from runbook_checks.errors import CheckFailed


def failure(check: Callable[..., None], *args: Any, **kwargs: Any) -> tuple[str, str, str]:
    """The (expected, found, fix) of the CheckFailed that `check(*args, **kwargs)` must raise."""
    with pytest.raises(CheckFailed) as caught:
        check(*args, **kwargs)
    return caught.value.expected, caught.value.found, caught.value.fix
