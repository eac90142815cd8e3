"""Typed records: one dataclass per table, whose fields are the table's columns, in order,
with their types (str, int, float, bool; `| None` where a cell may be empty).

    @dataclass
    class CurveRecord(Record):
        function: str
        seed: int
        test_mse: float

    record = CurveRecord("f1", 0, 1e-3)          # what a run passes on, until the writer
    row = record.row()                           # a dict: what the writer makes of it
    CurveRecord.from_row(row) == record          # a row read back (results.read_records)
    CurveRecord.columns(), CurveRecord.types()   # what the writers, the one reader
                                                 # (results.read_records), compare and the docs use

An empty cell reads back as None, or NaN in a float column; floats round-trip bit for bit.
`relukan_bench.load` gives a table as a pandas DataFrame with the dtypes of `PANDAS_DTYPES`
(docs/outputs.md says them too).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import TYPE_CHECKING, Any, ClassVar, Mapping, Union

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self from Python 3.11

_BASE = (str, int, float, bool)
#: a column's type -> its pandas dtype; every one but float64 holds a missing value (<NA>) as such
PANDAS_DTYPES = {str: "string", int: "Int64", float: "float64", bool: "boolean"}


class Record:
    """Base of the table dataclasses (subclasses are `@dataclass`es)."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @classmethod
    def types(cls) -> dict[str, type]:
        return _types(cls)

    @classmethod
    def columns(cls) -> list[str]:
        return list(_types(cls))

    def row(self) -> dict[str, Any]:
        """The record as the writers write it: column -> value, in column order."""
        return {name: getattr(self, name) for name in _types(type(self))}

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Self:
        """The record of a row read back: its declared columns; one the row lacks (a column
        added since the row was written) takes the field's default, or else is blank (NaN in
        a float column, empty in any other)."""
        found = {}
        for field in dataclasses.fields(cls):
            if field.name in row:
                found[field.name] = row[field.name]
            elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
                found[field.name] = _nothing(_types(cls)[field.name])
        return cls(**found)

    @classmethod
    def blank(cls, **known: object) -> Self:
        """A record with nothing measured (every float NaN, every other cell empty) but `known`."""
        row: dict[str, Any] = {name: _nothing(kind) for name, kind in _types(cls).items()}
        unknown = set(known) - set(row)
        if unknown:
            raise TypeError(f"{cls.__name__} has no column {sorted(unknown)[0]!r}")
        row.update(known)
        return cls(**row)


def _nothing(kind: type) -> float | None:
    """An empty cell of a column of type `kind`: NaN in a float column, None in any other."""
    return math.nan if kind is float else None


#: what a table is written from: a record, or a row of cells (a table no record declares)
Row = Union[Record, Mapping[str, Any]]


def cells(row: Row) -> Mapping[str, Any]:
    """A record's cells (`Record.row`), or the row itself."""
    return row.row() if isinstance(row, Record) else row


#: Each record class's column types, read once (`_types`).
_TYPES: dict[type, dict[str, type]] = {}


def _types(cls: type) -> dict[str, type]:
    found = _TYPES.get(cls)
    if found is None:
        found = _TYPES[cls] = _read_types(cls)
    return found


#: a column's type as a string annotation reads (`from __future__ import annotations`)
_NAMED = {kind.__name__: kind for kind in _BASE}


def _named(annotation: str) -> type | None:
    """`int` or `int | None` read without evaluating it (cheap at import); None for anything else."""
    parts = [part.strip() for part in annotation.split("|")]
    kinds = [_NAMED.get(part) for part in parts if part != "None"]
    return kinds[0] if len(kinds) == 1 and len(parts) - len(kinds) <= 1 else None


def _read_types(cls: type) -> dict[str, type]:
    fields = dataclasses.fields(cls)
    named = {field.name: _named(field.type) if isinstance(field.type, str) else None for field in fields}
    hints = named if all(named.values()) else typing.get_type_hints(cls)
    found = {}
    for field in fields:
        kind = hints[field.name]
        if isinstance(kind, types.UnionType) or typing.get_origin(kind) is typing.Union:
            kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
        if kind not in _BASE:
            raise TypeError(f"{cls.__name__}.{field.name}: a column is str, int, float or bool (got {kind})")
        found[field.name] = kind
    return found


def types_of(table: type[Record] | Mapping[str, type]) -> dict[str, type]:
    """The column types of a record class (or of a plain {column: type} mapping)."""
    return table.types() if isinstance(table, type) and issubclass(table, Record) else dict(table)


def columns_of(table: type[Record] | Mapping[str, type]) -> list[str]:
    return list(types_of(table))
