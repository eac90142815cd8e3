"""A small, safe evaluator for target functions written as text in the configs.

    >>> f = parse("exp(sin(pi*x1) + x2**2)")
    >>> f.n_inputs
    2
    >>> y = f(torch.rand(1000, 2))          # (B, 2) -> (B, 1)

Only a whitelisted syntax tree, at most 400 levels deep, is accepted: numbers, `+ - * / **`, unary minus
and plus, the names
`x1..xn`, `pi` and `e`, and one-argument calls of the functions in `FUNCTIONS`. Everything
else (attributes, subscripts, other names or calls, keywords, lambdas, comparisons, strings)
raises `ExpressionError`. Nothing is ever passed to `eval`: the tree is walked and turned
into a closure that calls torch. torch itself is imported only when an expression is evaluated.
"""

from __future__ import annotations

import ast
import math
import operator
import re
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

from relukan_bench.errors import ExpressionError, clip

#: function name in the expression -> name of the torch function that computes it
FUNCTIONS = {
    "sin": "sin",
    "cos": "cos",
    "tan": "tan",
    "exp": "exp",
    "log": "log",
    "sqrt": "sqrt",
    "tanh": "tanh",
    "arctan": "atan",
    "abs": "abs",
}
CONSTANTS = {"pi": math.pi, "e": math.e}
_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
}
_VARIABLE = re.compile(r"x([1-9][0-9]*)")
_MAX_LENGTH = 1000
_MAX_DEPTH = 400  # nesting of the syntax tree (1+1+...: one level per term): deeper is refused before anything recurses
_MAX_VARIABLE = 100_000  # x1..x100000, the widest layer a config may ask for

Node = Callable[[Any], Any]  # takes the (B, n) input tensor, returns a (B,) or 0-d tensor


@dataclass(frozen=True)
class Expression:
    """A parsed target function. Call it on a (B, n) tensor with n >= `n_inputs`."""

    text: str
    variables: frozenset[int]  # 1-based indices of the x_i that appear
    _evaluate: Node = field(repr=False, compare=False)

    @property
    def n_inputs(self) -> int:
        """The smallest input width that provides every variable used (x3 -> 3)."""
        return max(self.variables, default=0)

    def __call__(self, x):
        """Evaluate on x of shape (B, n); returns (B, 1) with x's dtype and device."""
        if x.ndim != 2 or x.shape[1] < self.n_inputs:
            raise ValueError(f"{self.text!r} needs input of shape (B, >= {self.n_inputs}), got {tuple(x.shape)}")
        y = self._evaluate(x).expand(x.shape[0])  # (B,); a constant expression broadcasts
        return y.reshape(x.shape[0], 1).clone()


def parse(text: str) -> Expression:
    """Parse and check `text`; raise `ExpressionError` with a short reason if it is refused."""
    if not isinstance(text, str):
        raise ExpressionError(f"expected an expression as text (got {clip(repr(text)) if isinstance(text, (int, float)) else type(text).__name__})")
    if not text.strip():
        raise ExpressionError("expected an expression such as 'sin(pi*x1)' (got an empty string)")
    if len(text) > _MAX_LENGTH:
        raise ExpressionError(f"expression longer than {_MAX_LENGTH} characters")
    try:
        with warnings.catch_warnings():  # Python warns of some literals ("1if"): the refusal says it all
            warnings.simplefilter("ignore")
            tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"invalid expression {clip(text)!r}: syntax error at column {exc.offset}") from None
    except (RecursionError, MemoryError, ValueError, OverflowError):  # Python's parser gave up on it
        raise ExpressionError(f"invalid expression {clip(text)!r}: nested too deeply to read") from None
    if _depth(tree.body) > _MAX_DEPTH:
        raise ExpressionError(f"invalid expression {clip(text)!r}: nested deeper than {_MAX_DEPTH} levels")
    variables: set[int] = set()
    evaluate = _compile(tree.body, text, variables)
    return Expression(text=text, variables=frozenset(variables), _evaluate=evaluate)


def _depth(root: ast.AST) -> int:
    """How deep the tree is, found without recursion (so that any depth can be measured)."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth <= _MAX_DEPTH:  # no need to look further down than the limit
            stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def _compile(node: ast.AST, text: str, variables: set[int]) -> Node:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):  # not bool: an int's subclass
            raise _refuse(text, f"the constant {node.value!r}")
        try:
            value = float(node.value)
        except OverflowError:
            raise _refuse(text, "an integer too large for a float") from None
        return lambda x: x.new_tensor(value)  # a 0-d tensor: constant parts follow IEEE too (1/0 = inf)
    if isinstance(node, ast.Name):
        return _compile_name(node.id, text, variables)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        op = _BINARY[type(node.op)]
        left = _compile(node.left, text, variables)
        right = _compile(node.right, text, variables)
        return lambda x: op(left(x), right(x))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _compile(node.operand, text, variables)
        return (lambda x: -operand(x)) if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Call):
        return _compile_call(node, text, variables)
    raise _refuse(text, _describe(node))


def _compile_name(name: str, text: str, variables: set[int]) -> Node:
    if name in CONSTANTS:
        value = CONSTANTS[name]
        return lambda x: x.new_tensor(value)
    match = _VARIABLE.fullmatch(name)
    if match:
        index = int(match.group(1)) if len(match.group(1)) <= 6 else _MAX_VARIABLE + 1
        if index > _MAX_VARIABLE:
            raise _refuse(text, f"the variable {name[:12]!r} (beyond x{_MAX_VARIABLE})")
        variables.add(index)
        return lambda x: x[:, index - 1]
    raise _refuse(text, f"the name {name!r}")


def _compile_call(node: ast.Call, text: str, variables: set[int]) -> Node:
    if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
        called = node.func.id if isinstance(node.func, ast.Name) else ast.unparse(node.func)
        raise _refuse(text, f"a call of {called!r}")
    name = node.func.id
    if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
        raise _refuse(text, f"{name}() with other than one plain argument")
    argument = _compile(node.args[0], text, variables)
    torch_name = FUNCTIONS[name]

    def call(x):
        import torch

        return getattr(torch, torch_name)(argument(x))

    return call


def _describe(node: ast.AST) -> str:
    kinds = {
        ast.Attribute: "attribute access",
        ast.Subscript: "subscripts",
        ast.Lambda: "lambda",
        ast.Compare: "comparisons",
        ast.BoolOp: "boolean operators",
        ast.IfExp: "conditional expressions",
        ast.NamedExpr: "assignment",
    }
    for kind, label in kinds.items():
        if isinstance(node, kind):
            return label
    if isinstance(node, (ast.BinOp, ast.UnaryOp)):
        op = node.op
        return f"the operator {type(op).__name__}"
    return type(node).__name__


def _refuse(text: str, what: str) -> ExpressionError:
    what = clip(what, 120)  # a name, call or constant from the text: never repeated at length
    return ExpressionError(
        f"{clip(text)!r}: {what} is not allowed (expected numbers, + - * / **, unary minus, "
        f"x1..xn, pi, e and the functions {', '.join(FUNCTIONS)})"
    )


# ----------------------------------------------------------------------------- as math, for figures
_TEX_CALLS = {name: "\\" + name for name in ("sin", "cos", "tan", "exp", "log", "tanh", "arctan")}
_TEX_NAMES = {"pi": r"\pi", "e": "e"}


def mathtext(text: str) -> str:
    """`text` as matplotlib mathtext (`sin(pi*x1)` -> `$\\sin(\\pi x_{1})$`), for figure titles;
    `text` itself when it is not an expression this module accepts."""
    try:
        parse(text)
        return f"${_tex(ast.parse(text.strip(), mode='eval').body)[0]}$"
    except (ExpressionError, RecursionError):
        return text


def _tex(node: ast.AST) -> tuple[str, int]:
    """The mathtext of a checked tree, and its precedence (1 sums, 2 products, 3 signs, 4
    powers, 5 atoms) to put parentheses where they are needed."""
    if isinstance(node, ast.Constant):
        return (f"{node.value:g}" if isinstance(node.value, float) else str(node.value)), 5
    if isinstance(node, ast.Name):
        match = _VARIABLE.fullmatch(node.id)
        return (f"x_{{{match.group(1)}}}" if match else _TEX_NAMES[node.id]), 5
    if isinstance(node, ast.UnaryOp):
        operand = _wrapped(node.operand, 2)
        return (operand if isinstance(node.op, ast.UAdd) else f"-{operand}"), 3
    if isinstance(node, ast.Call):
        name, argument = node.func.id, _tex(node.args[0])[0]  # type: ignore[attr-defined]
        if name == "sqrt":
            return f"\\sqrt{{{argument}}}", 5
        return (f"|{argument}|" if name == "abs" else f"{_TEX_CALLS[name]}({argument})"), 5
    op = type(node.op)  # type: ignore[attr-defined]
    if op is ast.Pow:
        return f"{_wrapped(node.left, 5)}^{{{_tex(node.right)[0]}}}", 4  # type: ignore[attr-defined]
    if op is ast.Div:
        return f"\\frac{{{_tex(node.left)[0]}}}{{{_tex(node.right)[0]}}}", 4  # type: ignore[attr-defined]
    if op is ast.Mult:
        left, right = _wrapped(node.left, 2), _wrapped(node.right, 4)  # type: ignore[attr-defined]
        return left + (r" \cdot " if right[:1].isdigit() else " ") + right, 2
    sign = " + " if op is ast.Add else " - "
    return f"{_tex(node.left)[0]}{sign}{_wrapped(node.right, 1 if op is ast.Add else 2)}", 1  # type: ignore[attr-defined]


def _wrapped(node: ast.AST, least: int) -> str:
    """`node` as mathtext, in parentheses when it binds less tightly than `least`."""
    tex, precedence = _tex(node)
    return tex if precedence >= least else f"({tex})"
