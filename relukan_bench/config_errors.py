"""Pydantic's validation errors said in one line, naming the file, the key and what was expected
(and the override that set the key, if one did):

    configs/speed.yaml: functions[2].width: expected a list of at least 2 positive integers (got [2])
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from pydantic import ValidationError

from relukan_bench.errors import clip
from relukan_bench.kinds import kind_names
from relukan_bench.schema import show


def _format_loc(loc: Sequence[str | int]) -> str:
    text = ""
    previous: str | int | None = None
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(previous, int) and part in kind_names():
            pass  # the tag pydantic adds for a discriminated union member
        else:
            text += f".{part}" if text else str(part)
        previous = part
    return text


def describe_error(error: Mapping[str, Any]) -> tuple[str, str]:
    """(extra key suffix, message) for one pydantic error."""
    kind = error["type"]
    ctx = error.get("ctx") or {}
    got = f" (got {show(error.get('input'))})"
    if kind in ("at_key", "cross_field"):
        return ctx["key"], ctx["message"]
    if kind == "value_error":
        return "", str(ctx.get("error", error["msg"]))
    if kind == "missing":
        return "", "missing required key"
    if kind == "union_tag_invalid":
        return "kind", f"expected one of {', '.join(repr(k) for k in kind_names())} (got {show(ctx.get('tag'))})"
    if kind == "union_tag_not_found":
        return "kind", f"missing required key (one of {', '.join(repr(k) for k in kind_names())})"
    if kind == "too_long":  # a list: its length, not its items
        return "", f"expected at most {ctx.get('max_length')} item(s) (got {ctx.get('actual_length')})"
    if kind in _MESSAGES:
        return "", _MESSAGES[kind].format_map(ctx) + got
    return "", error["msg"] + got


#: pydantic's error types as we say them, filled from the error's context; "(got ...)" follows
_MESSAGES = {
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "int_from_float": "expected an integer",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "finite_number": "expected a finite number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "string_type": "expected text",
    "list_type": "expected a list",
    "model_type": "expected a mapping of keys",
    "dict_type": "expected a mapping of keys",
    "model_attributes_type": "expected a mapping of keys",
    "string_pattern_mismatch": "expected a name of letters, digits, '_', '-' or '.'",
    "string_too_long": "expected at most {max_length} characters",
    "greater_than": "expected a number > {gt}",
    "greater_than_equal": "expected a number >= {ge}",
    "less_than_equal": "expected a number <= {le}",
    "too_short": "expected at least {min_length} item(s)",
    "literal_error": "expected {expected}",
}


def format_validation_error(path: Path, exc: ValidationError, applied: list[tuple[str, str]]) -> str:
    error = exc.errors(include_url=False)[0]
    suffix, message = describe_error(error)
    loc = _format_loc(error["loc"])
    if suffix:
        loc = f"{loc}.{suffix}" if loc and not suffix.startswith("[") else f"{loc}{suffix}"
    where = loc or "the config"
    culprit = ""
    for canonical, raw in applied:
        related = [canonical]
        if error["type"] == "cross_field" and "." in canonical:  # any key of the same object
            related.append(canonical.rpartition(".")[0])
        if any(where == key or where.startswith(key + ".") or where.startswith(key + "[") for key in related):
            culprit = f" (set by override {clip(raw)!r})"
    return f"{path}: {where}: {message}{culprit}"
