"""The `key=value` overrides a command takes after its arguments, applied to a config's YAML
data before validation (`relukan_bench.config.load_config`):

    apply_override(data, "functions.f2.grid=10", path)  # the key it set, e.g. 'functions[1].grid'

Keys are dotted; list items are chosen by index or by their `name`; values are read as YAML by
the configs' own loader. A key or value that cannot be read raises `ConfigError` in one line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable

from relukan_bench.errors import ConfigError, clip

_TOKEN = re.compile(r"([A-Za-z0-9_-]+)|\[([0-9]{1,9})\]")  # keys and names as the schema spells them
_INDEX = re.compile(r"[0-9]{1,9}")
_MAX_KEY = 200


def apply_override(data: dict[str, Any], raw: str, path: Path) -> str:
    """Apply one `key.path=value` to `data` in place; return the canonical key it set.

    Keys are dotted; list items are chosen by index (`functions[2].grid`, `functions.2.grid`)
    or by their `name` (`functions.f2.grid`). Values are read as YAML (`50`, `1e-3`, `[2, 1]`)
    by the configs' own loader (relukan_bench.yamlio), with its bounds.
    """
    from relukan_bench.yamlio import YamlError, check_size, loads  # PyYAML: only once there is an override

    key, sep, text = raw.partition("=")
    key = key.strip()
    shown = clip(raw)
    if not sep or not key:
        raise ConfigError(f"{path}: override {shown!r}: expected key=value, e.g. train.steps=50")
    tokens = _key_tokens(key)
    if tokens is None:
        raise ConfigError(f"{path}: override {shown!r}: cannot read the key {clip(key)!r} "
                          "(expected names joined by dots, list items as [0] or by name)")
    try:
        value = loads(text) if text.strip() else text
    except YamlError as exc:
        raise ConfigError(f"{path}: override {shown!r}: the value is not valid YAML ({exc.reason})") from None
    canonical = _set(data, tokens, value, lambda message: ConfigError(f"{path}: override {shown!r}: {message}"))
    try:
        check_size(data)
    except YamlError as exc:
        raise ConfigError(f"{path}: override {shown!r}: the config would hold {exc.reason}") from None
    return canonical


def _key_tokens(key: str) -> list[str | int] | None:
    """`functions[2].grid` as ['functions', 2, 'grid']; None when it cannot be read."""
    if len(key) > _MAX_KEY:
        return None
    tokens: list[str | int] = []
    position = 0
    for match in _TOKEN.finditer(key):
        if key[position : match.start()] not in ("", "."):
            return None
        tokens.append(int(match.group(2)) if match.group(2) is not None else match.group(1))
        position = match.end()
    return tokens if tokens and position == len(key) else None


def _set(data: dict[str, Any], tokens: list[str | int], value: object, error: Callable[[str], Exception]) -> str:
    """Set `value` at the path `tokens` inside `data`; the canonical key. `error(message)` is raised."""
    node: Any = data
    canonical = ""
    for i, token in enumerate(tokens):
        last = i == len(tokens) - 1
        if isinstance(node, list):
            index = _list_index(node, token)
            if index is None:
                raise error(f"{canonical or 'the config'} has no item {clip(str(token))!r}")
            canonical += f"[{index}]"
            if last:
                node[index] = value
            else:
                node = node[index]
        elif isinstance(node, dict):
            name = str(token)
            canonical += f".{name}" if canonical else name
            if last:
                node[name] = value
            else:
                node = node.setdefault(name, {})
        else:
            raise error(f"{canonical} is a value, not a mapping or list")
    return canonical


def _list_index(items: list[object], token: str | int) -> int | None:
    if isinstance(token, int) or _INDEX.fullmatch(token):
        index = int(token)
        return index if 0 <= index < len(items) else None
    for index, item in enumerate(items):
        if isinstance(item, dict) and item.get("name") == token:
            return index
    return None
