"""The notebooks' exercises: one check that ends each learner's cell.

    check_answer(answer, expected, hint)   `...` (not attempted yet) -> says so; right -> "correct"; wrong ->
                                          AssertionError with the hint

A learner's cell leaves `...` where the answer goes, so the committed notebook (and a papermill run) shows
"not attempted yet" instead of a traceback; the collapsed solution cell below it calls the same check on
the worked answer, and nbval runs it, so every exercise is known to be answerable.
"""
from __future__ import annotations

import math

import torch


def check_answer(answer, expected, hint: str = "", rtol: float = 1e-5, atol: float = 1e-6) -> None:
    """Prints "correct" when `answer` equals `expected` (tensors and floats to rtol/atol), a note when the answer
    is still `...`; otherwise raises an AssertionError with the hint (it does not give the expected value away).
    Returns None, so a cell ending in it shows the message only."""
    if answer is Ellipsis:
        print("not attempted yet: replace the `...` above with your answer and run the cell again")
        return
    if isinstance(expected, torch.Tensor):
        try:
            torch.testing.assert_close(torch.as_tensor(answer).to(expected.dtype), expected, rtol=rtol, atol=atol)
        except AssertionError as error:
            raise AssertionError(f"not yet: {hint}\n{error}".rstrip()) from None
    elif isinstance(expected, float):
        if not (isinstance(answer, (int, float)) and math.isclose(answer, expected, rel_tol=rtol, abs_tol=atol)):
            raise AssertionError(f"not yet: {answer!r} is not it. {hint}".rstrip())
    elif answer != expected:
        raise AssertionError(f"not yet: {answer!r} is not it. {hint}".rstrip())
    print("correct")
