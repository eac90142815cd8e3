"""YAML as configs read it: safe, bounded, and strict about what cannot be meant.

    data = loads(text)      # YamlError (a ValueError) with a one-line reason, never another exception

On top of `yaml.SafeLoader` (libyaml's parser where available; no Python objects, ever):

- floats written without a dot, such as `1e-3`, are floats (YAML 1.1 reads them as text);
- a key given twice in one mapping is refused (YAML would keep the second silently);
- integers are decimal: `010` (YAML 1.1 octal, 8), `0x10`, `0b10` and `1:30` (sexagesimal,
  90) are refused, and so is an integer of more than `MAX_DIGITS` digits;
- the document is bounded: at most `MAX_BYTES` of text, `MAX_VALUES` values once aliases are
  expanded (an alias bomb is refused before anything walks it) and `MAX_DEPTH` levels.

The dumper quotes text that this loader would read as a number, so dumps load back equal.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from relukan_bench.errors import clip
from relukan_bench.safe_files import TooLarge, read_bytes

MAX_BYTES = 1 << 20  # a config is a page or two; a megabyte is not a config
MAX_VALUES = 100_000  # values after aliases are expanded
MAX_DEPTH = 50  # nesting levels
MAX_DIGITS = 30  # digits of an integer

_DECIMAL_INT = re.compile(r"[-+]?(0|[1-9][0-9_]*)")
_EXPONENT_FLOAT = re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$")


class YamlError(ValueError):
    """YAML that is refused: the reason, and where in the text (1-based), when known."""

    def __init__(self, reason: str, line: int | None = None, column: int | None = None):
        self.reason, self.line, self.column = reason, line, column
        where = f" at line {line}, column {column}" if line is not None else ""
        super().__init__(f"invalid YAML{where}: {reason}")


_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser where PyYAML has it: 20x faster


class _Loader(_SAFE_LOADER):  # type: ignore[misc, valid-type]
    """The safe loader with decimal integers, exponent floats and unique keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # `<<: *base`: keys given beside it override it
                continue
            key = self.construct_object(key_node, deep=deep)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:  # an unhashable key: the safe loader's own error follows
                break
            if first is not key_node:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {clip(repr(key), 60)} is given twice (first at line {first.start_mark.line + 1})",
                    key_node.start_mark)
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        text = str(self.construct_scalar(node))
        if not _DECIMAL_INT.fullmatch(text):
            raise yaml.constructor.ConstructorError(
                None, None, f"expected an integer in decimal without leading zeros (got {clip(text, 60)}; "
                "YAML 1.1 would read it as octal, hex, binary or base 60)", node.start_mark)
        if len(text.lstrip("+-").replace("_", "")) > MAX_DIGITS:
            raise yaml.constructor.ConstructorError(None, None, f"an integer of more than {MAX_DIGITS} digits",
                                                    node.start_mark)
        return super().construct_yaml_int(node)

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:
        text = str(self.construct_scalar(node))
        if ":" in text:
            raise yaml.constructor.ConstructorError(
                None, None, f"expected a number in decimal (got {clip(text, 60)}; YAML 1.1 would read it in base 60)",
                node.start_mark)
        return super().construct_yaml_float(node)


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _Loader.construct_yaml_float)


class _Dumper(yaml.SafeDumper):
    """Quotes text that `_Loader` would read as a number."""


for _cls in (_Loader, _Dumper):
    _cls.add_implicit_resolver("tag:yaml.org,2002:float", _EXPONENT_FLOAT, list("-+0123456789."))


def read_text(path: Path) -> str:
    """The text of a YAML file, read no further than `MAX_BYTES` (a larger file is refused,
    YamlError); OSError and UnicodeDecodeError as `open` raises them. Only a regular file is
    read (relukan_bench.safe_files): a FIFO or a device is refused, an OSError, never waited on."""
    try:
        raw = read_bytes(path, MAX_BYTES)
    except TooLarge:
        raise YamlError(f"longer than {MAX_BYTES >> 10} KiB; a config is a page or two") from None
    return raw.decode("utf-8")


def loads(text: str) -> Any:
    """The data of one YAML document; YamlError when it is refused."""
    if len(text) > MAX_BYTES:
        raise YamlError(f"longer than {MAX_BYTES >> 10} KiB; a config is a page or two")
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        reason = exc.problem or exc.context or "not valid YAML"
        if "nesting depth" in reason:  # libyaml's own bound (1000 levels): say it as the pure-Python path does
            raise YamlError(f"nested deeper than {MAX_DEPTH} levels") from None
        raise YamlError(clip(reason, 200), mark.line + 1 if mark else None, mark.column + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise YamlError(clip(" ".join(str(exc).split()), 200)) from None
    except RecursionError:
        raise YamlError(f"nested deeper than {MAX_DEPTH} levels") from None
    except (ValueError, OverflowError, TypeError) as exc:  # a scalar a constructor cannot convert
        raise YamlError(clip(" ".join(str(exc).split()), 200)) from None
    check_size(data)
    return data


def check_size(data: object) -> None:
    """YamlError when `data` holds more than MAX_VALUES values counting every alias
    expansion, or is nested deeper than MAX_DEPTH. Stops at the first value too many, so a
    bomb costs no more to refuse than a config at the limit."""
    stack: list[tuple[object, int]] = [(data, 0)]
    count = 0
    while stack:
        value, depth = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise YamlError(f"more than {MAX_VALUES} values once aliases are expanded")
        if depth > MAX_DEPTH:
            raise YamlError(f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for pair in value.items() for item in pair)
        elif isinstance(value, (list, tuple)):
            stack.extend((item, depth + 1) for item in value)


def dumps(data: object) -> str:
    """`data` as YAML in block style that `loads` reads back equal."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)
