"""Tests of relukan_bench.expressions: values, shapes, dtypes and the refusals of the whitelist."""

from __future__ import annotations

import builtins
import math

import pytest
import torch
from hypothesis import given, strategies as st

from relukan_bench.errors import ExpressionError
from relukan_bench.expressions import parse


def _inputs(batch: int, n: int, dtype=torch.float64, low: float = 0.1, high: float = 1.1, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    return low + (high - low) * torch.rand(batch, n, generator=generator, dtype=dtype)


def _reference(x: torch.Tensor, function) -> torch.Tensor:
    """Row by row with the math module, in float64: independent of the torch code under test."""
    rows = [[function(*[float(v) for v in row])] for row in x.tolist()]
    return torch.tensor(rows, dtype=torch.float64)


# ----------------------------------------------------------------------------- values
def test_sin_pi_x1_matches_torch_float32():
    x = torch.rand(64, 1, generator=torch.Generator().manual_seed(1))
    y = parse("sin(pi*x1)")(x)
    assert y.shape == (64, 1)
    assert y.dtype == torch.float32
    assert torch.max(torch.abs(y - torch.sin(math.pi * x))).item() <= 1e-6
    # and against known points, so that a wrong constant cannot hide behind the same formula
    known = parse("sin(pi*x1)")(torch.tensor([[0.0], [0.5], [1.0 / 6.0]], dtype=torch.float64))
    torch.testing.assert_close(known, torch.tensor([[0.0], [1.0], [0.5]], dtype=torch.float64), atol=1e-12, rtol=0)


def test_four_variable_expression_values():
    x = _inputs(50, 4)
    y = parse("exp(sin(x1**2 + x2**2) + sin(x3**2 + x4**2))")(x)
    expected = _reference(x, lambda a, b, c, d: math.exp(math.sin(a * a + b * b) + math.sin(c * c + d * d)))
    assert y.shape == (50, 1)
    torch.testing.assert_close(y, expected, atol=1e-12, rtol=1e-12)


def test_variables_pick_their_own_columns():
    x = torch.tensor([[1.0, 10.0, 100.0], [2.0, 20.0, 200.0]], dtype=torch.float64)
    torch.testing.assert_close(parse("x1 + x3")(x), torch.tensor([[101.0], [202.0]], dtype=torch.float64))
    torch.testing.assert_close(parse("x2 - x1")(x), torch.tensor([[9.0], [18.0]], dtype=torch.float64))
    torch.testing.assert_close(parse("x3 / x2")(x), torch.tensor([[10.0], [10.0]], dtype=torch.float64))


@pytest.mark.parametrize(
    "text, function",
    [
        ("arctan(x1 + x1*x2 + x2**2)", lambda a, b: math.atan(a + a * b + b * b)),
        ("sqrt(x1)", lambda a, b: math.sqrt(a)),
        ("abs(x1 - x2)", lambda a, b: abs(a - b)),
        ("log(x1)", lambda a, b: math.log(a)),
        ("tanh(3*x1 - 2)", lambda a, b: math.tanh(3 * a - 2)),
        ("tan(x1)", lambda a, b: math.tan(a)),
        ("cos(pi*x2)", lambda a, b: math.cos(math.pi * b)),
        ("-x1", lambda a, b: -a),
        ("-sin(x1) * -x2", lambda a, b: (-math.sin(a)) * (-b)),
        ("x1 / x2", lambda a, b: a / b),
        ("1 / (1 + x1)", lambda a, b: 1 / (1 + a)),
        ("e**x1", lambda a, b: math.e**a),
        ("e*x1 + pi*x2", lambda a, b: math.e * a + math.pi * b),
        ("x1 - x2 - 1", lambda a, b: a - b - 1),  # left associative
        ("2**x1**2", lambda a, b: 2 ** (a**2)),  # ** is right associative
        ("-x1**2", lambda a, b: -(a**2)),  # unary minus binds looser than **
        ("exp(sin(pi*x1) + x2**2)", lambda a, b: math.exp(math.sin(math.pi * a) + b * b)),
        ("sin(pi*x1 + pi*x2)", lambda a, b: math.sin(math.pi * a + math.pi * b)),
        ("0.5*x1 + 1e-3", lambda a, b: 0.5 * a + 1e-3),
    ],
)
def test_function_values(text, function):
    x = _inputs(40, 2)
    y = parse(text)(x)
    assert y.shape == (40, 1)
    assert y.dtype == torch.float64
    torch.testing.assert_close(y, _reference(x, function), atol=1e-12, rtol=1e-12)


def test_negative_inputs_to_abs_and_unary_minus():
    x = torch.tensor([[-2.5], [0.0], [3.0]], dtype=torch.float64)
    torch.testing.assert_close(parse("abs(x1)")(x), torch.tensor([[2.5], [0.0], [3.0]], dtype=torch.float64))
    torch.testing.assert_close(parse("-x1")(x), torch.tensor([[2.5], [0.0], [-3.0]], dtype=torch.float64))


def test_constants_e_and_pi():
    x = torch.zeros(3, 1, dtype=torch.float64)
    torch.testing.assert_close(parse("pi + 0*x1")(x), torch.full((3, 1), math.pi, dtype=torch.float64), atol=1e-15, rtol=0)
    torch.testing.assert_close(parse("e + 0*x1")(x), torch.full((3, 1), math.e, dtype=torch.float64), atol=1e-15, rtol=0)


@pytest.mark.parametrize(
    "text, value",
    [("2*pi", 2 * math.pi), ("e", math.e), ("3", 3.0), ("sin(pi/2)", 1.0), ("exp(1) - e", 0.0), ("-2**2", -4.0)],
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_expression_without_variables_fills_the_batch(text, value, dtype):
    expression = parse(text)
    assert expression.variables == frozenset()
    assert expression.n_inputs == 0
    y = expression(torch.rand(7, 2, dtype=dtype))
    assert y.shape == (7, 1)
    assert y.dtype == dtype
    tolerance = 1e-6 if dtype == torch.float32 else 1e-12
    torch.testing.assert_close(y, torch.full((7, 1), value, dtype=dtype), atol=tolerance, rtol=0)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("text", ["sin(pi*x1)", "x1 + x2", "exp(sin(pi*x1) + x2**2)", "sqrt(abs(x2))", "pi"])
def test_output_shape_and_dtype_follow_the_input(text, dtype):
    x = _inputs(13, 2, dtype=dtype)
    y = parse(text)(x)
    assert y.shape == (13, 1)
    assert y.dtype == dtype
    assert y.device == x.device
    # the float32 result is the float64 result rounded, not something else
    reference = parse(text)(x.double())
    torch.testing.assert_close(y.double(), reference, atol=1e-5 if dtype == torch.float32 else 0, rtol=1e-5 if dtype == torch.float32 else 0)


def test_extra_columns_are_ignored():
    x = _inputs(5, 4)
    torch.testing.assert_close(parse("x1*x2")(x), parse("x1*x2")(x[:, :2]))


# ----------------------------------------------------------------------------- variables
@pytest.mark.parametrize(
    "text, variables, n_inputs",
    [
        ("x1 + x3", {1, 3}, 3),
        ("sin(pi*x1)", {1}, 1),
        ("exp(sin(x1**2 + x2**2) + sin(x3**2 + x4**2))", {1, 2, 3, 4}, 4),
        ("x12 * x2", {2, 12}, 12),
        ("x2 + x2", {2}, 2),
        ("2*pi", set(), 0),
    ],
)
def test_variables_and_n_inputs(text, variables, n_inputs):
    expression = parse(text)
    assert expression.variables == frozenset(variables)
    assert expression.n_inputs == n_inputs
    assert expression.text == text


def test_too_few_columns_raise_value_error():
    expression = parse("x1 + x3")
    with pytest.raises(ValueError, match="x1 \\+ x3"):
        expression(torch.rand(5, 2))
    expression(torch.rand(5, 3))  # enough columns: no error


def test_input_that_is_not_two_dimensional_raises_value_error():
    with pytest.raises(ValueError):
        parse("x1")(torch.rand(5))
    with pytest.raises(ValueError):
        parse("x1")(torch.rand(5, 1, 1))


def test_evaluation_never_calls_eval(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("eval was called")

    monkeypatch.setattr(builtins, "eval", refuse)
    expression = parse("exp(sin(pi*x1) + x2**2)")
    x = _inputs(3, 2)
    torch.testing.assert_close(expression(x), _reference(x, lambda a, b: math.exp(math.sin(math.pi * a) + b * b)))


# ----------------------------------------------------------------------------- refusals
REFUSED_WITH_TEXT = [
    "__import__('os').system('ls')",
    "x1.real",
    "x1[0]",
    "lambda: 1",
    "os",
    "y1",
    "x0",
    "x01",
    "sin(x1, x2)",
    "sin(x=x1)",
    "eval('1')",
    "open('f')",
    "x1 if x1 else 2",
    "x1 < 2",
    "x1 and x2",
    "'abc'",
    "True",
    "1j",
    "x1 % 2",
    "x1 // 2",
    "~x1",
    "(x := 1)",
    "sin(*[x1])",
    "sin(pi*x1",  # syntax error
    "",
]


@pytest.mark.parametrize("text", REFUSED_WITH_TEXT)
def test_refused_expressions_name_the_text(text):
    with pytest.raises(ExpressionError) as info:
        parse(text)
    message = str(info.value)
    assert text in message
    assert "\n" not in message


def test_refusals_are_value_errors():
    # config validation relies on this to report the error under the expression's key
    assert issubclass(ExpressionError, ValueError)


def test_refusal_reasons():
    def reason(text):
        with pytest.raises(ExpressionError) as info:
            parse(text)
        return str(info.value)

    assert "'os'" in reason("os")
    assert "attribute" in reason("x1.real")
    assert "'eval'" in reason("eval('1')")
    assert "Mod" in reason("x1 % 2")
    assert "syntax error" in reason("sin(pi*x1")


def test_blank_expression_is_refused():
    with pytest.raises(ExpressionError) as info:
        parse("   ")
    assert "empty" in str(info.value)


def test_overlong_expression_is_refused():
    text = ("x1 + " * 400)[:1999] + "1"
    assert len(text) == 2000
    with pytest.raises(ExpressionError) as info:
        parse(text)
    assert "1000 characters" in str(info.value)


def test_expression_of_exactly_the_limit_is_accepted():
    text = "x1+" * 333 + "1"  # 1000 characters
    assert len(text) == 1000
    assert parse(text)(torch.ones(2, 1, dtype=torch.float64)).tolist() == [[334.0], [334.0]]


def test_non_string_is_refused():
    with pytest.raises(ExpressionError) as info:
        parse(123)
    assert "123" in str(info.value)


@pytest.mark.parametrize("text", ["(-1)**0.5", "1/0", "x1 + 1/0", "2**10000"])
def test_accepted_constant_expressions_evaluate_or_raise_value_error(text):
    x = torch.rand(4, 1, dtype=torch.float64)
    try:
        expression = parse(text)
    except ExpressionError:
        return  # refusing it up front is a fine fix
    try:
        y = expression(x)
    except ValueError:
        return  # so is a clear ValueError at evaluation
    assert y.shape == (4, 1)


def test_unary_plus_is_the_value_itself():
    x = torch.rand(5, 1)
    assert torch.equal(parse("+x1")(x), parse("x1")(x))
    assert torch.equal(parse("-+-x1")(x), x)


# ----------------------------------------------------------------------------- any text at all
_TOKENS = ["x1", "x2", "x3", "x0", "x100001", "pi", "e", "1", "0", "2.5", "1e308", "9" * 400, "+", "-", "*", "/", "**",
           "(", ")", ",", " ", "sin(", "exp(", "log(", "sqrt(", "abs(", "arctan(", "tanh(", "sinh(", "__import__(",
           "x1.real", "[0]", "lambda", ":", "=", "if", "'s'", "1j", "%", "//", "~", "not ", "and", "@", "..."]


@given(st.one_of(st.text(max_size=120), st.lists(st.sampled_from(_TOKENS), max_size=60).map("".join),
                 st.integers(1, 1200).map(lambda n: "-" * n + "x1"), st.integers(1, 600).map(lambda n: "x1+" * n + "1")))
def test_any_text_parses_to_something_that_evaluates_or_is_refused(text):
    """The parser's whole contract: an ExpressionError with a one-line reason, or an expression
    that evaluates on any input of its width to a (B, 1) tensor (finite or not); never another
    exception."""
    try:
        expression = parse(text)
    except ExpressionError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 500
        return
    x = torch.rand(8, max(expression.n_inputs, 1))
    y = expression(x)
    assert y.shape == (8, 1) and y.dtype == x.dtype
