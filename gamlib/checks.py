"""Argument checks shared by every layer: each raises a ValueError that names the value and the fix."""
from __future__ import annotations

import numbers


def check_choice(kind: str, value, choices) -> None:
    """Raise a ValueError naming `kind` and the allowed values if `value` is not one of them."""
    if value not in choices:
        raise ValueError(f"unknown {kind} {value!r}; choose one of {sorted(choices)}")


def check_count(name: str, value, minimum: int = 1) -> int:
    """`value` as an int, or a ValueError naming `name` when it is not an integer >= minimum."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)
