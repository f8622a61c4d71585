"""gamlib.exercises.check_answer: the check every exercise cell ends with."""
import pytest
import torch

from gamlib import check_answer


def test_an_unattempted_exercise_says_so_without_failing(capsys):
    assert check_answer(..., 13) is None
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("answer, expected", [(13, 13), (0.1 + 0.2, 0.3), ([1, 2], [1, 2]),
                                              (torch.ones(2, 3), torch.ones(2, 3)),
                                              ([[1.0, 1.0]], torch.ones(1, 2))])
def test_a_right_answer_is_correct(answer, expected, capsys):
    assert check_answer(answer, expected) is None
    assert capsys.readouterr().out.strip() == "correct"


@pytest.mark.parametrize("answer, expected", [(12, 13), (0.31, 0.3), ("0.3", 0.3),
                                              (torch.zeros(2, 3), torch.ones(2, 3)),
                                              (torch.ones(3, 2), torch.ones(2, 3))])
def test_a_wrong_answer_fails_with_the_hint_and_does_not_give_the_answer_away(answer, expected):
    with pytest.raises(AssertionError, match="not yet") as error:
        check_answer(answer, expected, hint="count the taps of every layer")
    assert "count the taps" in str(error.value)
    if not isinstance(expected, torch.Tensor):
        assert str(error.value).count(str(expected)) == str(answer).count(str(expected))
