"""The shared input checks (`qnet_envs.validation`), whole messages: `field: problem (allowed)`."""

import math

import numpy as np
import pytest

from qnet_envs.validation import (
    FieldError,
    check_choice,
    check_flag,
    check_integer,
    check_number,
    describe_range,
    show,
)


def test_show_writes_numpy_values_as_plain_python() -> None:
    assert show(np.float64(0.5)) == "0.5"
    assert show(np.int64(5)) == "5"
    assert show(np.array([1, 2])) == "[1, 2]"
    assert show("x") == "'x'"


@pytest.mark.parametrize(
    ("kwargs", "text"),
    [
        ({"low": 0, "high": 1}, "a number in [0, 1]"),
        ({"low": 0, "high": 1, "low_open": True, "high_open": True}, "a number in (0, 1)"),
        ({"low": 0, "high": math.inf, "high_open": True}, "a number >= 0"),
        ({"low": 0, "high": math.inf, "low_open": True, "high_open": True}, "a number > 0"),
        ({"low": 10, "high": math.inf}, "a number in [10, inf]"),
        ({"low": -math.inf, "high": 5, "low_open": True}, "a number <= 5"),
        ({"low": 1, "high": math.inf, "high_open": True, "integer": True}, "an integer >= 1"),
        ({"low": -math.inf, "high": math.inf}, "a number"),
    ],
)
def test_describe_range(kwargs, text) -> None:
    assert describe_range(**kwargs) == text


def test_check_number_accepts_numbers_in_range_as_floats() -> None:
    assert check_number("x", 1, 0, 1) == 1.0
    assert type(check_number("x", np.float32(0.5), 0, 1)) is float
    assert check_number("x", math.inf, 0, math.inf) == math.inf


@pytest.mark.parametrize(
    ("value", "kwargs", "message"),
    [
        (1.5, {"low": 0, "high": 1}, "x: 1.5 is out of range (allowed: a number in [0, 1])"),
        (
            0,
            {"low": 0, "high": 1, "low_open": True},
            "x: 0 is out of range (allowed: a number in (0, 1])",
        ),
        (True, {"low": 0, "high": 1}, "x: True is not a number (allowed: a number in [0, 1])"),
        ("a", {"low": 0, "high": 1}, "x: 'a' is not a number (allowed: a number in [0, 1])"),
        (math.nan, {"low": 0, "high": 1}, "x: nan is not a number (allowed: a number in [0, 1])"),
        (
            math.inf,
            {"low": 0, "high": math.inf, "high_open": True},
            "x: inf is out of range (allowed: a number >= 0)",
        ),
        (
            np.float64(-2.0),
            {"low": 0, "high": 1},
            "x: -2 is out of range (allowed: a number in [0, 1])",
        ),
    ],
)
def test_check_number_rejects_with_the_whole_message(value, kwargs, message) -> None:
    with pytest.raises(FieldError) as info:
        check_number("x", value, **kwargs)
    assert str(info.value) == message
    assert isinstance(info.value, ValueError)
    assert info.value.field == "x"


def test_check_integer() -> None:
    assert check_integer("n", np.int64(3), 1) == 3
    assert type(check_integer("n", np.int64(3), 1)) is int
    cases = [
        (0, None, "n: 0 is out of range (allowed: an integer >= 1)"),
        (5, 4, "n: 5 is out of range (allowed: an integer in [1, 4])"),
        (2.0, None, "n: 2.0 is not an integer (allowed: an integer >= 1)"),
        (True, None, "n: True is not an integer (allowed: an integer >= 1)"),
    ]
    for value, high, message in cases:
        with pytest.raises(FieldError) as info:
            check_integer("n", value, 1, high)
        assert str(info.value) == message


def test_check_choice_and_flag() -> None:
    assert check_choice("mode", "a", ("a", "b")) == "a"
    with pytest.raises(FieldError) as info:
        check_choice("mode", "c", ("a", "b"))
    assert str(info.value) == "mode: got 'c' (allowed: one of ['a', 'b'])"
    with pytest.raises(FieldError):
        check_choice("mode", ["a"], ("a", "b"))  # a list: rejected, not a TypeError
    assert check_flag("on", np.bool_(True)) is True
    with pytest.raises(FieldError) as info:
        check_flag("on", "yes")
    assert str(info.value) == "on: got 'yes' (allowed: true or false)"


def test_every_family_input_error_is_a_field_error() -> None:
    """One ``except FieldError`` catches a malformed routing scenario and planning instance."""
    import dataclasses

    from qnet_envs.planning import Instance
    from qnet_envs.routing import Scenario

    tiny = Scenario.load("tiny")
    with pytest.raises(FieldError) as routing:
        dataclasses.replace(tiny, max_actions=0)
    assert routing.value.field == "max_actions" and routing.value.allowed
    with pytest.raises(FieldError) as planning:
        Instance.from_dict({"network": {"waxman": {"beta": 2.0}}})
    assert planning.value.field == "network.waxman.beta"
    assert str(planning.value) == (
        "network.waxman.beta: 2 is out of range (allowed: a number in (0, 1])"
    )
