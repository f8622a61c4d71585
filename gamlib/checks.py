"""Argument checks shared by every layer: each raises a ValueError that names the value and the fix.

Every message has one form, "<name> must be <what is allowed>, got <value>", where <name> is the
argument or, for a config, "<Class>.<field>" (e.g. "GAMConfig.n_layer must be an integer >= 1, got 0").
A bool is never accepted as a number (True is not a layer count), and NaN is never a real number here.
"""
from __future__ import annotations

import difflib
import math
import numbers


def check_choice(kind: str, value, choices) -> None:
    """Raise a ValueError naming `kind` and the allowed values if `value` is not one of them."""
    if value not in choices:
        raise ValueError(f"unknown {kind} {value!r}; choose one of {sorted(choices)}")


def check_count(name: str, value, minimum: int = 1, maximum: int | None = None, hint: str = "") -> int:
    """`value` as an int, or a ValueError naming `name` when it is not an integer in [minimum, maximum].

    `hint` (e.g. "; use ...") is appended to the message.
    """
    ok = not isinstance(value, bool) and isinstance(value, numbers.Integral)
    if ok:
        ok = value >= minimum and (maximum is None or value <= maximum)
    if not ok:
        allowed = f"an integer >= {minimum}" if maximum is None else f"an integer in [{minimum}, {maximum}]"
        raise ValueError(f"{name} must be {allowed}, got {value!r}{hint}")
    return int(value)


def check_optional_count(name: str, value, minimum: int = 1) -> int | None:
    """None, or `value` as an int >= minimum; otherwise a ValueError naming `name`."""
    if value is None:
        return None
    try:
        return check_count(name, value, minimum)
    except ValueError:
        raise ValueError(f"{name} must be None or an integer >= {minimum}, got {value!r}") from None


def _interval(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is not None and high is not None:
        return f"in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high:g}"
    return ""


def check_real(name: str, value, low: float | None = None, high: float | None = None, *,
               low_open: bool = False, high_open: bool = False) -> float:
    """`value` as a float, or a ValueError naming `name` when it is not a finite real number in the range.

    low/high None: no bound on that side; low_open/high_open: the bound itself is excluded.
    E.g. check_real("LMConfig.dropout", p, 0, 1, high_open=True) accepts [0, 1).
    """
    ok = not isinstance(value, bool) and isinstance(value, numbers.Real)
    if ok:
        v = float(value)
        ok = math.isfinite(v)
        if ok and low is not None:
            ok = v > low if low_open else v >= low
        if ok and high is not None:
            ok = v < high if high_open else v <= high
    if not ok:
        interval = _interval(low, high, low_open, high_open)
        kind = "a real number" if low is not None and high is not None else "a finite real number"
        raise ValueError(f"{name} must be {kind}{' ' + interval if interval else ''}, got {value!r}")
    return float(value)


def check_known(kind: str, names, known) -> None:
    """Raise a ValueError naming the `names` not in `known`, with the sorted known names (and a close match)."""
    unknown = [n for n in names if n not in known]
    if not unknown:
        return
    hints = []
    for n in unknown:
        close = difflib.get_close_matches(str(n), [str(k) for k in known], n=1)
        if close:
            hints.append(f"{n!r} -> did you mean {close[0]!r}?")
    hint = f" ({'; '.join(hints)})" if hints else ""
    listed = ", ".join(repr(n) for n in unknown)
    plural = "s" if len(unknown) > 1 else ""
    raise ValueError(f"unknown {kind}{plural} {listed}{hint}; known fields: {sorted(known)}")
