"""rrampaper._checks: the parameter validators and their error messages."""

import pytest

from rrampaper._checks import check_choice, check_positive_int, check_range


@pytest.mark.parametrize(
    ("value", "kwargs", "message"),
    [
        (1.5, {"low": 0, "high": 1}, r"keep_ratio=1.5 is outside the valid range \[0, 1\]"),
        (0.0, {"low": 0, "high": 1, "low_open": True}, r"keep_ratio=0.0 is outside the valid range \(0, 1\]"),
        (float("nan"), {"low": 0, "high": 1}, "outside the valid range"),
        ("abc", {"low": 0, "high": 1}, "is not a number"),
    ],
)
def test_check_range_names_parameter_value_and_range(value, kwargs, message):
    with pytest.raises(ValueError, match=message):
        check_range("keep_ratio", value, **kwargs)


def test_check_range_accepts_bounds_and_returns_value():
    assert check_range("x", 0, 0, 1) == 0
    assert check_range("x", 1, 0, 1) == 1
    assert check_range("v", 2.5, 0, 5, unit="V") == 2.5
    with pytest.raises(ValueError, match=r"v=6 V is outside the valid range \[0, 5\] V"):
        check_range("v", 6, 0, 5, unit="V")


def test_check_positive_int_and_choice():
    assert check_positive_int("epochs", 3) == 3
    assert check_positive_int("epochs", 3.0) == 3
    for bad in (0, -1, 2.5, True, "3"):
        with pytest.raises(ValueError, match="epochs="):
            check_positive_int("epochs", bad)
    assert check_choice("mode", "a", ["a", "b"]) == "a"
    with pytest.raises(ValueError, match="mode='c' is not valid; choose one of 'a', 'b'"):
        check_choice("mode", "c", ["a", "b"])
