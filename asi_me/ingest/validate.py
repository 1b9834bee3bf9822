"""Vectorised validation of tables against the data contract.

Every rule is derived from the pydantic models and `TABLES` in `asi_me.data.contract`
(types, vocabularies, ranges, patterns, lengths, required columns, list lengths,
keys and references) or from the domain vocabularies in `asi_me.data.vocab` (country
codes, standard versions, criteria, CoC stage/material pairs, mass balance). The
checks run column by column over whole Arrow arrays, never row by row, and every
problem is collected: nothing stops at the first one.

Cells arrive as text (CSV/XLSX) or typed Arrow/pandas columns (Parquet, in-memory);
both are normalised to text first so one parser applies to every source.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any

import annotated_types as at
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pydantic.fields import FieldInfo
from pydantic.types import StringConstraints

from asi_me.data import vocab
from asi_me.data.contract import LIST_REFERENCES, LIST_SEPARATOR, TABLES, TableSpec
from asi_me.data.snapshot import arrow_schema

# Rule names, as printed in "(rule: ...)" and counted in the summary.
RULE_REQUIRED = "required"
RULE_TYPE = "type"
RULE_VOCABULARY = "vocabulary"
RULE_RANGE = "range"
RULE_PATTERN = "pattern"
RULE_LENGTH = "length"
RULE_LIST_LENGTH = "list length"
RULE_COUNTRY = "country code"
RULE_UNIQUE = "unique key"
RULE_REFERENCE = "reference"
RULE_LIST_REFERENCE = "list reference"
RULE_VERSION = "version of standard"
RULE_DATE_ORDER = "date order"
RULE_COORDINATES = "coordinates pair"
RULE_CRITERION = "criterion in principle"
RULE_SEVERITY = "severity of rating"
RULE_COC_PAIR = "CoC stage and material"
RULE_MASS_BALANCE = "mass balance"
RULE_MISSING_COLUMN = "missing column"
RULE_UNEXPECTED_COLUMN = "unexpected column"
RULE_DUPLICATE_COLUMN = "duplicate column"
RULE_UNKNOWN_TABLE = "unknown table"
RULE_DUPLICATE_TABLE = "one file per table"
RULE_ROW_SHAPE = "cells per row"
RULE_ONE_VALUE = "one value per cell"
RULE_CONTROL = "control character"
RULE_PRECISION = "date precision"
RULE_DELETION = "deletion list"

ERROR = "error"
WARNING = "warning"

MASS_BALANCE_TOLERANCE = 1e-6  # relative; exports round tonnes
_VALUE_SHOWN = 120  # longest value quoted in a message

_INT = r"^[+-]?\d{1,15}(\.0*)?$"
_FLOAT = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?$"
_DATE = r"^\d{4}-\d{2}-\d{2}([ T]00:00(:00(\.0+)?)?Z?)?$"
_CONTROL = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
# Columns a row may leave empty because ingest derives them from the row's other cells.
DERIVABLE: dict[str, frozenset[str]] = {
    "certifications": frozenset({"expires_on", "certification_type"}),
    "risks": frozenset({"severity"}),
}
# Years a certificate of each type lasts (BRIEF: provisional one year, full three).
CERTIFICATE_YEARS = {"provisional": 1, "full": 3}
_TRUE = ["true", "1", "yes", "y", "t"]
_FALSE = ["false", "0", "no", "n", "f"]


# --------------------------------------------------------------------------- rules from the contract


@dataclass(frozen=True)
class ColumnRule:
    """Everything ingest checks about one column, read off the pydantic model."""

    name: str
    position: int
    kind: str  # str | int | float | bool | date
    description: str
    required: bool  # the column must be present in the file
    nullable: bool  # an empty cell is allowed
    is_list: bool = False
    list_min: int | None = None
    enum: type[Enum] | None = None
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    is_country: bool = False

    @property
    def allowed(self) -> list[str]:
        return [str(member.value) for member in self.enum] if self.enum else []

    def type_text(self) -> str:
        """The type as a person reads it, e.g. 'list of text', 'date, nullable'."""
        base = {"str": "text", "int": "integer", "float": "number", "bool": "boolean", "date": "date"}[self.kind]
        if self.enum is not None:
            base = f"code ({self.enum.__name__})"
        if self.is_country:
            base = "country code"
        text = f"list of {base}" if self.is_list else base
        if self.nullable:
            text += ", nullable"
        elif not self.required:
            text += ", optional"
        return text

    def range_text(self) -> str:
        parts = []
        if self.gt is not None:
            parts.append(f"> {_num(self.gt)}")
        if self.ge is not None:
            parts.append(f">= {_num(self.ge)}")
        if self.lt is not None:
            parts.append(f"< {_num(self.lt)}")
        if self.le is not None:
            parts.append(f"<= {_num(self.le)}")
        return " and ".join(parts)


def _num(value: float) -> str:
    if not float(value).is_integer():
        return f"{value:g}"
    return f"{value:,.0f}" if abs(value) >= 100_000 else f"{value:.0f}"


def _collect(meta: list[Any], into: dict[str, Any]) -> None:
    for item in meta:
        if isinstance(item, at.Ge):
            into["ge"] = item.ge
        elif isinstance(item, at.Gt):
            into["gt"] = item.gt
        elif isinstance(item, at.Le):
            into["le"] = item.le
        elif isinstance(item, at.Lt):
            into["lt"] = item.lt
        elif isinstance(item, at.MinLen):
            into["min_length"] = item.min_length
        elif isinstance(item, at.MaxLen):
            into["max_length"] = item.max_length
        elif isinstance(item, StringConstraints):
            for key in ("min_length", "max_length", "pattern"):
                if getattr(item, key) is not None:
                    into[key] = getattr(item, key)
        elif isinstance(item, FieldInfo):
            _collect(list(item.metadata), into)
            if isinstance(item.json_schema_extra, dict) and item.json_schema_extra.get("iso3166"):
                into["is_country"] = True


def _unwrap(annotation: Any, into: dict[str, Any]) -> Any:
    """Strip Optional/Annotated layers, collecting constraints; returns the bare type."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        args = typing.get_args(annotation)
        _collect(list(args[1:]), into)
        return _unwrap(args[0], into)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        into["nullable"] = True
        return _unwrap(args[0], into)
    return annotation


def _kind(bare: Any) -> tuple[str, type[Enum] | None]:
    if isinstance(bare, type) and issubclass(bare, Enum):
        return "str", bare
    if bare is bool:
        return "bool", None
    if bare is int:
        return "int", None
    if bare is float:
        return "float", None
    if bare is date:
        return "date", None
    if bare is str:
        return "str", None
    raise TypeError(f"No ingest rule for type {bare!r}")


def column_rules(spec: TableSpec) -> dict[str, ColumnRule]:
    """The checks for every column of a table, derived from its model."""
    rules: dict[str, ColumnRule] = {}
    for position, (name, info) in enumerate(spec.model.model_fields.items()):
        outer: dict[str, Any] = {}
        _collect(list(info.metadata), outer)
        if isinstance(info.json_schema_extra, dict) and info.json_schema_extra.get("iso3166"):
            outer["is_country"] = True
        bare = _unwrap(info.annotation, outer)
        nullable = bool(outer.pop("nullable", False)) or (not info.is_required() and info.default is None)
        required = info.is_required()
        if typing.get_origin(bare) is list:
            inner: dict[str, Any] = {}
            element = _unwrap(typing.get_args(bare)[0], inner)
            kind, enum = _kind(element)
            inner.pop("nullable", None)
            rules[name] = ColumnRule(
                name, position, kind, info.description or "", required, False,
                is_list=True, list_min=outer.get("min_length"), enum=enum, **inner,
            )
        else:
            kind, enum = _kind(bare)
            rules[name] = ColumnRule(
                name, position, kind, info.description or "", required, nullable, enum=enum, **outer
            )
    return rules


RULES: dict[str, dict[str, ColumnRule]] = {name: column_rules(spec) for name, spec in TABLES.items()}


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One problem in one cell (or one column, or one file)."""

    file: str
    row: int | None
    column: str | None
    value: str | None
    rule: str
    constraint: str
    detail: str
    hint: str
    severity: str = ERROR

    @property
    def message(self) -> str:
        """The sentence a person reads: file, row, column, value, rule and what to do."""
        return _message(
            self.file, self.row, self.column, self.value, self.rule, self.constraint, self.detail, self.hint
        )


def _shown(value: str) -> str:
    return value if len(value) <= _VALUE_SHOWN else value[: _VALUE_SHOWN - 1] + "…"


def _message(  # noqa: PLR0917 - the parts of one sentence, in reading order
    file: str, row: int | None, column: str | None, value: str | None, rule: str, constraint: str, detail: str,
    hint: str,
) -> str:
    where = file + (f" row {row}" if row is not None else "") + (f", column {column}" if column else "")
    what = (f"value '{_shown(value)}' " if value is not None else "") + detail
    rule_text = f"{rule} {constraint}" if constraint else rule
    return f"{where}: {what} (rule: {rule_text}); {hint}."


PROBLEM_COLUMNS = ["severity", "file", "row", "column", "value", "rule", "constraint", "detail", "hint"]


class ProblemLog:
    """Problems collected column-wise, so a million bad cells stay cheap."""

    def __init__(self) -> None:
        self._parts: list[pd.DataFrame] = []

    def add(  # noqa: PLR0917 - called from every check with the same parts
        self,
        frame: Frame,
        index: np.ndarray,
        column: str | None,
        values: Any,
        rule: str,
        constraint: str,
        detail: Any,
        hint: Any,
        severity: str = ERROR,
    ) -> None:
        """Record problems for the rows at `index` of `frame` (values/detail/hint may be per row)."""
        index = np.asarray(index, dtype=np.int64)
        if index.size == 0:
            return
        position = RULES[frame.table][column].position if column in RULES.get(frame.table, {}) else -1
        self._parts.append(
            pd.DataFrame(
                {
                    "severity": severity,
                    "file": frame.label,
                    "row": frame.rows[index],
                    "column": column,
                    "value": _text_values(values, index.size),
                    "rule": rule,
                    "constraint": constraint,
                    "detail": _text_values(detail, index.size),
                    "hint": _text_values(hint, index.size),
                    "_order": frame.order,
                    "_position": position,
                }
            )
        )

    def add_file(  # noqa: PLR0917
        self, label: str, order: int, column: str | None, value: str | None, rule: str, constraint: str, detail: str,
        hint: str, row: int | None = None,
    ) -> None:
        """Record one problem about a whole file, sheet or column."""
        self._parts.append(
            pd.DataFrame(
                {
                    "severity": [ERROR], "file": [label], "row": [row], "column": [column], "value": [value],
                    "rule": [rule], "constraint": [constraint], "detail": [detail], "hint": [hint],
                    "_order": [order], "_position": [-2],
                }
            )
        )

    def frame(self) -> pd.DataFrame:
        """Every problem, in file order, then row, then column order, with its message."""
        if not self._parts:
            out = pd.DataFrame({name: pd.Series(dtype=object) for name in [*PROBLEM_COLUMNS, "message"]})
            out["row"] = pd.Series(dtype="Int64")
            return out
        parts = [p.astype({"row": "Int64"}) for p in self._parts]
        out = pd.concat(parts, ignore_index=True)
        out = out.sort_values(["_order", "row", "_position"], na_position="first", kind="stable")
        out = out.drop(columns=["_order", "_position"]).reset_index(drop=True)
        out["value"] = _escape_control(out["value"])
        out["message"] = _messages(out)
        return out


def _text_values(values: Any, size: int) -> Any:
    """Per-problem text (value, detail or hint) as a column; scalars stay scalars."""
    if values is None or isinstance(values, str):
        return values
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if isinstance(values, pa.Array):
        if pa.types.is_list(values.type):
            values = pc.binary_join(values.cast(pa.list_(pa.string())), LIST_SEPARATOR)
        elif not pa.types.is_string(values.type):
            values = values.cast(pa.string())
        series = values.to_pandas(types_mapper=None).astype(object)
    else:
        series = pd.Series(np.asarray(values, dtype=object)).reset_index(drop=True)
    if len(series) != size:
        raise ValueError(f"{len(series)} values for {size} problems")
    return series.where(series.notna(), None)


def _escape_control(values: pd.Series) -> pd.Series:
    """Control characters in quoted values written as \\xNN, so a report never carries a raw NUL."""
    text = _text_column(values)
    has = _mask(pc.match_substring_regex(text, _CONTROL))
    if not has.any():
        return values
    out = values.astype(object).copy()
    pattern = re.compile(_CONTROL)
    out[has] = [pattern.sub(lambda m: f"\\x{ord(m.group()):02x}", v) for v in out[has]]
    return out


def _text_column(series: pd.Series) -> pa.Array:
    """A problem column as Arrow text, nulls kept."""
    values = series.astype(object).where(series.notna(), None)
    return pa.array(values.tolist(), type=pa.string()) if len(values) else pa.array([], pa.string())


def _messages(problems: pd.DataFrame) -> pd.Series:
    """The sentence of every problem, built column-wise (same words as Problem.message)."""
    empty = pa.scalar("")

    def join(*parts: pa.Array | pa.Scalar | str) -> pa.Array:
        return pc.binary_join_element_wise(*[pa.scalar(p) if isinstance(p, str) else p for p in parts], "")

    def unless_null(array: pa.Array, *parts: pa.Array | str) -> pa.Array:
        return pc.if_else(pc.is_null(array), empty, join(*parts))

    row = _text_column(problems["row"].astype("string"))
    column = _text_column(problems["column"])
    value = _text_column(problems["value"])
    constraint = pc.fill_null(_text_column(problems["constraint"]), "")
    long = pc.fill_null(pc.greater(pc.utf8_length(value), _VALUE_SHOWN), False)
    shown = pc.if_else(long, join(pc.utf8_slice_codeunits(value, 0, _VALUE_SHOWN - 1), "…"), value)
    message = join(
        _text_column(problems["file"]),
        unless_null(row, " row ", pc.fill_null(row, "")),
        unless_null(column, ", column ", pc.fill_null(column, "")),
        ": ",
        unless_null(value, "value '", pc.fill_null(shown, ""), "' "),
        _text_column(problems["detail"]),
        " (rule: ",
        _text_column(problems["rule"]),
        pc.if_else(pc.equal(constraint, ""), empty, join(" ", constraint)),
        "); ",
        _text_column(problems["hint"]),
        ".",
    )
    return pd.Series(message.to_pylist(), index=problems.index, dtype=object)


def problems_from_frame(problems: pd.DataFrame) -> list[Problem]:
    """Turn the column-wise problem frame into Problem records."""
    columns = [problems[c].astype(object).where(problems[c].notna(), None).tolist() for c in PROBLEM_COLUMNS]
    return [
        Problem(
            file=file, row=None if row is None else int(row), column=column, value=value, rule=rule,
            constraint=constraint or "", detail=detail, hint=hint, severity=severity,
        )
        for severity, file, row, column, value, rule, constraint, detail, hint in zip(*columns, strict=True)
    ]


# --------------------------------------------------------------------------- frames


@dataclass
class Frame:
    """One table as read from one source, with its cells typed and a per-cell ok mask."""

    table: str
    label: str  # what a person calls the file: "members.csv", "crm.xlsx sheet members"
    order: int  # position in the input, for sorting the report
    rows: np.ndarray  # the row number a person sees, per record
    raw: dict[str, pa.Array] = field(default_factory=dict)  # trimmed text (or list<string>) as read
    typed: dict[str, pa.Array] = field(default_factory=dict)
    ok: dict[str, np.ndarray] = field(default_factory=dict)  # cell present and valid
    present: dict[str, np.ndarray] = field(default_factory=dict)  # cell not empty in the file
    is_supplied: bool = True  # False for tables kept from the current snapshot (already validated)
    given: set[str] = field(default_factory=set)  # columns the file holds
    precision: dict[str, pa.Array] = field(default_factory=dict)  # month/year precision of date columns read
    base: pa.Table | None = None  # rows of the current snapshot kept beside the supplied ones (an update)
    order_index: np.ndarray | None = None  # (update) positions in concat(base, supplied) of the result's rows
    removes_keys: bool = False  # (update) keys of the current snapshot are removed (replace or deletion list)
    explained: dict[str, np.ndarray] = field(default_factory=dict)  # rows whose empty cell is reported already

    @property
    def num_rows(self) -> int:
        return len(self.rows)

    def supplied_arrow(self) -> pa.Table:
        """The supplied rows, typed, in the snapshot schema."""
        schema = arrow_schema(TABLES[self.table])
        return pa.table([self.typed[name] for name in schema.names], schema=schema)

    def to_arrow(self) -> pa.Table:
        """The resulting table in the snapshot schema (only meaningful when it has no errors): the supplied
        rows, or, for an update, the kept rows with the supplied ones updated in place and new ones appended."""
        supplied = self.supplied_arrow()
        if self.base is None or self.order_index is None:
            return supplied
        combined = pa.concat_tables([self.base.cast(supplied.schema), supplied])
        return combined.take(pa.array(self.order_index, type=pa.int64()))


def _as_text(array: pa.Array) -> pa.Array:
    """Normalise a typed Arrow column to text (lists to list<string>) so one parser handles every source."""
    kind = array.type
    if pa.types.is_dictionary(kind):
        array = array.dictionary_decode()
        kind = array.type
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return array.cast(pa.list_(pa.string()))
    if pa.types.is_null(kind):
        return pa.nulls(len(array), pa.string())
    if pa.types.is_timestamp(kind):
        return pc.strftime(array, format="%Y-%m-%d %H:%M:%S")
    return array.cast(pa.string())


def _trim(array: pa.Array) -> pa.Array:
    """Trim spaces; a blank cell is an empty cell."""
    trimmed = pc.utf8_trim_whitespace(array)
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def _mask(array: pa.Array) -> np.ndarray:
    """A boolean Arrow array as numpy, nulls as False."""
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=bool)


def _where(mask: np.ndarray) -> np.ndarray:
    return np.flatnonzero(mask)


def _take(array: pa.Array, index: np.ndarray) -> pa.Array:
    return array.take(pa.array(index, type=pa.int64()))


def _null_where(array: pa.Array, mask: np.ndarray) -> pa.Array:
    if not mask.any():
        return array
    return pc.if_else(pa.array(mask), pa.scalar(None, array.type), array)


def _one_of(rule: ColumnRule) -> str:
    return "use one of " + ", ".join(rule.allowed)


def _map_unique(text: pa.Array, mapper: Any) -> pa.Array:
    """`mapper` applied to each distinct value once, spread back over every row (nulls stay null)."""
    uniques = pc.unique(text)
    mapped = [None if v is None else mapper(v) for v in uniques.to_pylist()]
    return pa.array(mapped, type=pa.string()).take(pc.index_in(text, value_set=uniques))


# Separators people use to put several values in one cell.
_SEVERAL = re.compile(r"\s*(?:;|,|\+|&|/|\band\b|\bund\b|\bet\b)\s*", re.IGNORECASE)


def _shown_code(rule: ColumnRule, code: str) -> str:
    if rule.is_country:
        return f"{code} ({vocab.country_name(code)})"
    words = vocab.label(code)
    return code if vocab.lookup_key(words) == vocab.lookup_key(code) else f"{code} ('{words}')"


def _vocabulary(rule: ColumnRule, text: pa.Array, ok: np.ndarray, fail: Any, *, in_list: bool) -> pa.Array:
    """Codes for a vocabulary or country column, read from codes, labels, aliases or country names in any
    case; refused values get the nearest allowed ones as a suggestion, and a cell holding several values
    is named as such."""
    table = vocab.country_lookup() if rule.is_country else vocab.code_lookup(rule.enum)
    codes = _map_unique(text, lambda v: table.get(vocab.lookup_key(v)))
    unknown = ok & ~_mask(pc.is_valid(codes))
    if not unknown.any():
        return codes
    if rule.is_country:
        rule_name, constraint = RULE_COUNTRY, "ISO 3166-1 alpha-2"
        detail = "is not a known country (an ISO 3166-1 alpha-2 code or an English name)"
        tail = "write an ISO 3166-1 alpha-2 code such as DE, NO, AU or BR, or the country's English name"
    else:
        rule_name, constraint, detail = RULE_VOCABULARY, rule.enum.__name__, "is not allowed"
        tail = _one_of(rule) + " (the codes, or their labels in the data dictionary, in any case)"

    def several(value: str) -> str | None:
        parts = [p for p in _SEVERAL.split(value) if p]
        found = [table.get(vocab.lookup_key(p)) for p in parts]
        if len(parts) >= 2 and all(found):
            return ", ".join(dict.fromkeys(found))
        return None

    def hint(value: str) -> str:
        near = vocab.suggestions(value, table)
        if not near:
            return tail
        shown = [_shown_code(rule, c) for c in near]
        listed = shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]
        return "did you mean " + listed + "? Otherwise " + tail

    index = _where(unknown)
    bad = _take(text, index)
    split = _map_unique(bad, several).to_numpy(zero_copy_only=False) if not in_list else np.full(len(index), None)
    is_several = np.array([s is not None for s in split], dtype=bool)
    if is_several.any():
        mask = np.zeros(len(ok), dtype=bool)
        mask[index[is_several]] = True
        values = split[is_several].astype(str)
        fail(mask, RULE_ONE_VALUE, "", "holds several values (" + values + ")",
             "a cell takes one value: write one row per value, each with its own key "
             "(with --keep-valid this row is quarantined until then)")
    rest = index[~is_several]
    if rest.size:
        mask = np.zeros(len(ok), dtype=bool)
        mask[rest] = True
        hints = _map_unique(_take(text, rest), hint).to_numpy(zero_copy_only=False)
        fail(mask, rule_name, constraint, detail, hints)
    return codes


# --------------------------------------------------------------------------- dates as people write them

_MONTHS = {name: i for i, names in enumerate(
    (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"), ("may",), ("jun", "june"),
     ("jul", "july"), ("aug", "august"), ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
     ("dec", "december")), start=1) for name in names}
_MONTH = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|" \
         r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_DATE_FORMS = (  # (pattern, precision, groups -> (year, month, day))
    (re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b"), "day", lambda g: (g[0], g[1], g[2])),
    (re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+" + _MONTH + r",?\s+(\d{4})\b", re.I), "day",
     lambda g: (g[2], _MONTHS[g[1].lower().rstrip(".")], g[0])),
    (re.compile(r"\b" + _MONTH + r"\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b", re.I), "day",
     lambda g: (g[2], _MONTHS[g[0].lower().rstrip(".")], g[1])),
    (re.compile(r"\b" + _MONTH + r",?\s+(\d{4})\b", re.I), "month",
     lambda g: (g[1], _MONTHS[g[0].lower().rstrip(".")], 1)),
    (re.compile(r"\b(\d{4})-(\d{1,2})\b(?!-)"), "month", lambda g: (g[0], g[1], 1)),
    (re.compile(r"\b(\d{1,2})/(\d{4})\b"), "month", lambda g: (g[1], g[0], 1)),
    (re.compile(r"\b((?:19|20)\d{2})\b"), "year", lambda g: (g[0], 1, 1)),
)
_NUMERIC_DMY = re.compile(r"\b(\d{1,2})[/.](\d{1,2})[/.](\d{4})\b")


def read_date(text: str) -> tuple[date | None, str | None, str]:
    """A date written as a person would: (date, precision 'day'/'month'/'year', '') when the text states
    exactly one date, else (None, None, why) with a suggestion."""
    numeric = _NUMERIC_DMY.search(text)
    if numeric:
        first, second, year = (int(x) for x in numeric.groups())
        if first > 12 and second <= 12:
            guess = f"; did you mean {year:04d}-{second:02d}-{first:02d}?"
        elif second > 12 and first <= 12:
            guess = f"; did you mean {year:04d}-{first:02d}-{second:02d}?"
        else:
            guess = ""
        return None, None, "day/month order is ambiguous: write dates as YYYY-MM-DD" + guess
    found: list[tuple[date, str]] = []
    rest = text
    for pattern, precision, parts in _DATE_FORMS:
        for match in pattern.finditer(rest):
            try:
                year, month, day = (int(x) for x in parts(match.groups()))
                found.append((date(year, month, day), precision))
            except ValueError:
                return None, None, f"'{match.group(0)}' is not a real date: write it as YYYY-MM-DD"
        rest = pattern.sub(" ", rest)
    distinct = list(dict.fromkeys(found))
    if len(distinct) == 1:
        return distinct[0][0], distinct[0][1], ""
    if not distinct:
        return None, None, "write dates in ISO 8601 form, e.g. 2021-03-14 for 14 March 2021 (or 2021-03 where only " \
                           "the month is known)"
    shown = ", ".join(d.isoformat()[: {"day": 10, "month": 7, "year": 4}[p]] for d, p in distinct)
    return None, None, f"it names more than one date ({shown}): write the one date this column means, e.g. " \
                       f"{distinct[0][0].isoformat()[: {'day': 10, 'month': 7, 'year': 4}[distinct[0][1]]]}"


def _parse_date(frame: Frame, rule: ColumnRule, text: pa.Array, ok: np.ndarray, fail: Any) -> pa.Array:
    """ISO dates at Arrow speed; other forms read once per distinct value, keeping month/year precision
    where the table has a `<column>_precision` column and refusing them with a suggestion elsewhere."""
    shape_ok = _mask(pc.match_substring_regex(text, _DATE))
    head = pc.utf8_slice_codeunits(_null_where(text, ~(ok & shape_ok)), 0, 10)
    days = pc.strptime(head, format="%Y-%m-%d", unit="s", error_is_null=True).cast(pa.date32())
    # strptime rolls 2021-02-30 over to March; a real date prints back as itself.
    real = _mask(pc.equal(days.cast(pa.string()), head))
    other = ok & ~real
    if not other.any():
        return days
    index = _where(other)
    texts = _take(text, index)
    uniques = pc.unique(texts)
    read = [read_date(v) for v in uniques.to_pylist()]
    at = pc.index_in(texts, value_set=uniques).to_numpy(zero_copy_only=False)
    value = np.array([r[0] for r in read] + [None], dtype=object)[at]
    precision = np.array([r[1] for r in read] + [None], dtype=object)[at]
    why = np.array([r[2] for r in read] + [""], dtype=object)[at]
    keeps_precision = f"{rule.name}_precision" in RULES[frame.table]
    coarse = (precision != "day") & (value != None)  # noqa: E711 - element-wise
    refused = value == None  # noqa: E711
    mask = np.zeros(len(ok), dtype=bool)
    mask[index[refused]] = True
    fail(mask, RULE_TYPE, "date YYYY-MM-DD", "is not a date written as YYYY-MM-DD", why[refused])
    if not keeps_precision and coarse.any():
        mask = np.zeros(len(ok), dtype=bool)
        mask[index[coarse]] = True
        shown = np.where(precision[coarse] == "month", "the month", "the year")
        fail(mask, RULE_PRECISION, "a full date", "states only " + shown + f" and {rule.name} needs the day",
             "write the exact date as YYYY-MM-DD (the first day of the period is not assumed here)")
        coarse[:] = False
    accepted = ~refused & ((precision == "day") | keeps_precision)
    full = days.to_numpy(zero_copy_only=False).astype("datetime64[D]").copy()
    full[index[accepted]] = np.array(list(value[accepted]), dtype="datetime64[D]")
    out = pa.array(full, type=pa.date32(), from_pandas=True)
    if keeps_precision:
        levels = np.full(len(ok), None, dtype=object)
        levels[index[accepted & (precision != "day")]] = precision[accepted & (precision != "day")]
        frame.precision[rule.name] = pa.array(levels, type=pa.string())
    return out


# --------------------------------------------------------------------------- cell checks


def parse_frame(frame: Frame, columns: dict[str, pa.Array], problems: ProblemLog) -> None:
    """Type every column of a supplied table, recording each cell's first failed rule."""
    rules = RULES[frame.table]
    n = frame.num_rows
    frame.given = set(columns)
    for name, rule in rules.items():
        if name in columns:
            if rule.is_list:
                _parse_list(frame, rule, columns[name], problems)
            else:
                _parse_scalar(frame, rule, columns[name], problems)
        else:
            schema_type = arrow_schema(TABLES[frame.table]).field(name).type
            if rule.is_list:
                frame.typed[name] = pa.array([[] for _ in range(n)], type=schema_type) if n else pa.array(
                    [], schema_type
                )
            elif name.endswith("_precision") and name.removesuffix("_precision") in frame.precision:
                frame.typed[name] = frame.precision[name.removesuffix("_precision")]
            else:
                frame.typed[name] = pa.nulls(n, schema_type)
            frame.raw[name] = pa.nulls(n, pa.string())
            # A missing required column is reported once for the file, not per row.
            frame.ok[name] = np.full(n, not rule.required)
            frame.present[name] = np.zeros(n, dtype=bool)
    if frame.table == "risks":
        derive_severity(frame, problems)
    elif frame.table in DERIVABLE:
        derive_fields(frame, problems)


def _severity_codes(likelihood: pa.Array, consequence: pa.Array) -> pd.Series:
    """The severity band (vocab.severity_of) of each likelihood x consequence; None where either is missing."""
    pairs = zip(likelihood.to_pylist(), consequence.to_pylist(), strict=True)
    return pd.Series([None if lk is None or cq is None else vocab.severity_of(lk, cq).value for lk, cq in pairs],
                     dtype=object)


def derive_severity(frame: Frame, problems: ProblemLog) -> None:
    """Fill a risk's empty severity from its likelihood x consequence (the bands of vocab.SEVERITY_BANDS);
    a row whose rating is itself refused is reported for that, not again here."""
    rated = frame.ok["likelihood"] & frame.ok["consequence"]
    empty = ~frame.present["severity"]
    if not empty.any():
        return
    derived = _severity_codes(frame.typed["likelihood"], frame.typed["consequence"])
    fill = empty & rated
    current = pd.Series(frame.typed["severity"].to_pylist(), dtype=object)
    current[fill] = derived[fill]
    frame.typed["severity"] = pa.array(current.tolist(), pa.string())
    frame.ok["severity"] = frame.ok["severity"] | fill
    frame.present["severity"] = frame.present["severity"] | fill
    frame.given.add("severity")  # an update keeps the derived band rather than the stored one
    unrated = empty & ~rated & ~(frame.present["likelihood"] & frame.present["consequence"])
    problems.add(
        frame, _where(unrated), "severity", None, RULE_REQUIRED, "", "the cell is empty and cannot be derived",
        "fill in likelihood and consequence (1-5 each), from which severity is derived",
    )


def derive_fields(frame: Frame, problems: ProblemLog) -> None:
    """Fill what a certificate's other cells determine, and name each derived column in derived_columns:
    certification_type from the span issued_on..expires_on (about one year: provisional, else full), and
    expires_on from issued_on and the type (one or three years). What stays unknown is a required problem."""
    n = frame.num_rows
    derived = [[] for _ in range(n)]
    issued_ok = frame.ok["issued_on"] & frame.present["issued_on"]
    type_given = frame.present["certification_type"]
    expiry_given = frame.present["expires_on"]
    if "certification_type" not in frame.given or "expires_on" not in frame.given or (~type_given).any() or \
            (~expiry_given).any():
        issued = frame.typed["issued_on"].to_numpy(zero_copy_only=False).astype("datetime64[D]")
        expires = frame.typed["expires_on"].to_numpy(zero_copy_only=False).astype("datetime64[D]")
        kinds = np.array(frame.typed["certification_type"].to_pylist(), dtype=object)
        # type from the span
        from_span = ~type_given & issued_ok & expiry_given & frame.ok["expires_on"]
        span = (expires - issued).astype("timedelta64[D]").astype(np.int64)
        kinds[from_span] = np.where(span[from_span] <= 550, "provisional", "full")
        # expiry from the type
        with_type = np.array([k is not None for k in kinds], dtype=bool)
        from_type = ~expiry_given & issued_ok & with_type
        years = np.array([CERTIFICATE_YEARS.get(k, 0) for k in kinds[from_type]], dtype=np.int64)
        if from_type.any():
            issued_dates = [date.fromisoformat(str(d)) for d in issued[from_type]]
            new = []
            for day, add in zip(issued_dates, years, strict=True):
                try:
                    new.append(day.replace(year=day.year + int(add)))
                except ValueError:  # 29 February
                    new.append(day.replace(year=day.year + int(add), day=28))
            expires = expires.copy()
            expires[from_type] = np.array(new, dtype="datetime64[D]")
        for i in _where(from_span):
            derived[i].append("certification_type")
        for i in _where(from_type):
            derived[i].append("expires_on")
        frame.typed["certification_type"] = pa.array(kinds.tolist(), pa.string())
        frame.typed["expires_on"] = pa.array(expires, type=pa.date32())
        frame.ok["certification_type"] = frame.ok["certification_type"] | from_span
        frame.ok["expires_on"] = frame.ok["expires_on"] | from_type
        frame.present["certification_type"] = type_given | from_span
        frame.present["expires_on"] = expiry_given | from_type
        for column, other in (("certification_type", "expires_on"), ("expires_on", "certification_type")):
            if column not in frame.given:
                continue  # reported once as a missing column, or (an update) taken from the current snapshot
            # A row whose issue date is itself refused is reported for that, not again here.
            issued_refused = frame.present["issued_on"] & ~frame.ok["issued_on"]
            # Without a type the expiry cannot be derived either: the type's problem says so once.
            no_type = ~frame.present["certification_type"] if column == "expires_on" else np.zeros(n, dtype=bool)
            missing = _where(~frame.present[column] & ~issued_refused & ~no_type)
            problems.add(
                frame, missing, column, None, RULE_REQUIRED, "", "the cell is empty and cannot be derived",
                f"fill in {column}, or give {other} and issued_on so that it can be derived",
            )
    if any(derived):
        existing = frame.typed["derived_columns"].to_pylist()
        frame.typed["derived_columns"] = pa.array(
            [sorted(set(old or []) | set(new)) for old, new in zip(existing, derived, strict=True)],
            pa.list_(pa.string()),
        )


def _parse_scalar(frame: Frame, rule: ColumnRule, column: pa.Array, problems: ProblemLog) -> None:
    if pa.types.is_list(column.type):
        column = pc.binary_join(column, LIST_SEPARATOR)
    text = _trim(column)
    present = _mask(pc.is_valid(text))
    frame.raw[rule.name] = text
    frame.present[rule.name] = present
    if not rule.nullable and rule.name not in DERIVABLE.get(frame.table, ()):
        explained = frame.explained.get(rule.name)
        missing = _where(~present if explained is None else ~present & ~explained)
        problems.add(
            frame, missing, rule.name, None, RULE_REQUIRED, "", "the cell is empty but a value is required",
            f"fill in {rule.name} ({rule.description.rstrip('.')})",
        )
    ok = present.copy()

    def fail(bad: np.ndarray, rule_name: str, constraint: str, detail: Any, hint: Any) -> None:
        nonlocal ok
        index = _where(bad)
        problems.add(frame, index, rule.name, _take(text, index), rule_name, constraint, detail, hint)
        ok &= ~bad

    typed: pa.Array
    if rule.kind == "str":
        typed = text
        if rule.enum is not None or rule.is_country:
            if rule.is_country:
                _control_characters(text, ok, fail)
            typed = _vocabulary(rule, text, ok, fail, in_list=False)
    elif rule.kind == "int":
        fail(ok & ~_mask(pc.match_substring_regex(text, _INT)), RULE_TYPE, "integer", "is not a whole number",
             "write a whole number without separators, e.g. 1200")
        clean = pc.replace_substring_regex(_null_where(text, ~ok), r"^\+|\.0*$", "")
        typed = pc.cast(clean, pa.int64())
    elif rule.kind == "float":
        fail(ok & ~_mask(pc.match_substring_regex(text, _FLOAT)), RULE_TYPE, "number", "is not a number",
             "write a plain number with '.' as the decimal point and no thousands separators, e.g. 1234.5")
        typed = pc.cast(_null_where(text, ~ok), pa.float64())
    elif rule.kind == "bool":
        lower = pc.utf8_lower(text)
        is_true = _mask(pc.is_in(lower, pa.array(_TRUE)))
        is_false = _mask(pc.is_in(lower, pa.array(_FALSE)))
        fail(ok & ~is_true & ~is_false, RULE_TYPE, "boolean", "is not true or false",
             "write true or false (1/0 and yes/no are also accepted)")
        typed = _null_where(pa.array(is_true), ~ok)
    elif rule.kind == "date":
        typed = _parse_date(frame, rule, text, ok, fail)
    else:  # pragma: no cover - column_rules only yields the kinds above
        raise AssertionError(rule.kind)

    if rule.kind in {"int", "float"}:
        numbers = typed
        for op, bound, words in (
            ("greater_equal", rule.ge, "at least"),
            ("greater", rule.gt, "more than"),
            ("less_equal", rule.le, "at most"),
            ("less", rule.lt, "less than"),
        ):
            if bound is not None:
                within = _mask(getattr(pc, op)(numbers, pa.scalar(float(bound))))
                fail(ok & ~within, RULE_RANGE, rule.range_text(), f"is out of range: it must be {words} {_num(bound)}",
                     f"enter a value {rule.range_text()} in {rule.name}")
    if rule.kind == "str" and rule.enum is None and not rule.is_country:
        _string_constraints(rule, text, ok, fail)
    typed = _null_where(typed, ~ok)
    frame.typed[rule.name] = typed
    frame.ok[rule.name] = ok


def _control_characters(text: pa.Array, ok: np.ndarray, fail: Any) -> None:
    # Printable text (nearly every cell) skips the regular expression.
    suspect = ok & ~_mask(pc.utf8_is_printable(text))
    if not suspect.any():
        return
    bad = np.zeros(len(ok), dtype=bool)
    index = _where(suspect)
    bad[index] = _mask(pc.match_substring_regex(_take(text, index), _CONTROL))
    if bad.any():
        fail(bad, RULE_CONTROL, "", "contains a control character (shown as \\xNN)",
             "remove it: text cells take printable characters, tabs and line breaks only")


def _string_constraints(rule: ColumnRule, text: pa.Array, ok: np.ndarray, fail: Any) -> None:
    """Control characters, length and pattern checks, shared by scalar cells and list elements."""
    _control_characters(text, ok, fail)
    if rule.min_length is not None or rule.max_length is not None:
        length = pc.utf8_length(text)
        none = np.zeros(len(ok), dtype=bool)
        too_short = _mask(pc.less(length, rule.min_length)) if rule.min_length is not None else none
        too_long = _mask(pc.greater(length, rule.max_length)) if rule.max_length is not None else none
        limit = f"at most {rule.max_length} characters" if rule.max_length is not None else ""
        fail(ok & (too_short | too_long), RULE_LENGTH, limit, f"is too long ({limit})" if limit else "is too short",
             f"shorten it to {limit}" if limit else "enter a longer value")
    if rule.pattern is not None:
        matches = _mask(pc.match_substring_regex(text, rule.pattern))
        example = _PATTERN_HINTS.get(rule.pattern, "correct the value")
        fail(ok & ~matches, RULE_PATTERN, rule.pattern, "does not have the required form", example)


_PATTERN_HINTS = {
    r"^[A-Za-z0-9_.:-]+$": "use only letters, digits and _ . : - (no spaces), e.g. F-0012",
    r"^\d{1,2}\.\d{1,2}[a-z]?$": "write the criterion as principle.criterion, e.g. 5.1 or 9.2a",
    r"^[A-Z]{2}$": "use two capital letters",
    r"^[^@]+$": "name the role or title (e.g. Director of Assurance), not a person's e-mail",
}


def _parse_list(frame: Frame, rule: ColumnRule, column: pa.Array, problems: ProblemLog) -> None:
    n = len(column)
    if pa.types.is_list(column.type):
        lists = column
    else:
        lists = pc.split_pattern(pc.utf8_trim_whitespace(column), LIST_SEPARATOR)
    flat = _trim(pc.list_flatten(lists))
    parents = np.asarray(pc.list_parent_indices(lists).to_numpy(), dtype=np.int64)
    keep = _mask(pc.is_valid(flat))
    flat = flat.filter(pa.array(keep))
    parents = parents[keep]
    lengths = np.bincount(parents, minlength=n) if n else np.zeros(0, dtype=np.int64)
    present = lengths > 0
    frame.present[rule.name] = present
    frame.raw[rule.name] = column if not pa.types.is_list(column.type) else pc.binary_join(column, LIST_SEPARATOR)
    ok = np.ones(n, dtype=bool)
    if rule.list_min:
        empty = _where(~present)
        problems.add(
            frame, empty, rule.name, None, RULE_REQUIRED, "", "the cell is empty but at least one value is required",
            f"fill in {rule.name}, several values separated by '{LIST_SEPARATOR}'",
        )
        ok[empty] = False
        short = _where(present & (lengths < rule.list_min))
        problems.add(frame, short, rule.name, _take(frame.raw[rule.name], short), RULE_LIST_LENGTH,
                     f"at least {rule.list_min}", f"has fewer than {rule.list_min} values",
                     f"list at least {rule.list_min} values separated by '{LIST_SEPARATOR}'")
        ok[short] = False

    element_ok = np.ones(len(flat), dtype=bool)

    def fail(bad: np.ndarray, rule_name: str, constraint: str, detail: Any, hint: Any) -> None:
        nonlocal element_ok
        index = _where(bad)
        if index.size:
            detail_text = "in the list " + detail
            problems.add(frame, parents[index], rule.name, _take(flat, index), rule_name, constraint, detail_text, hint)
        element_ok &= ~bad

    if rule.enum is not None or rule.is_country:
        if rule.is_country:
            _control_characters(flat, element_ok, fail)
        flat = _vocabulary(rule, flat, element_ok.copy(), fail, in_list=True)
    else:
        _string_constraints(rule, flat, element_ok, fail)
    bad_rows = np.unique(parents[~element_ok])
    ok[bad_rows] = False
    offsets = np.zeros(n + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    typed = pa.ListArray.from_arrays(pa.array(offsets), flat)
    frame.typed[rule.name] = typed
    frame.ok[rule.name] = ok



# --------------------------------------------------------------------------- table and cross-table checks


def _pandas(frame: Frame, columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({name: frame.typed[name].to_pandas() for name in columns})


def check_unique_key(frame: Frame, problems: ProblemLog) -> None:
    """No two rows share the table's key; each repeat names the row it repeats."""
    key = list(TABLES[frame.table].key)
    ok = np.logical_and.reduce([frame.ok[c] for c in key])
    if frame.num_rows == 0 or not ok.any():
        return
    index = _where(ok)
    keys = pa.table({c: _take(frame.typed[c], index) for c in key})
    df = keys.to_pandas()
    repeated = df.duplicated(keep="first").to_numpy()
    if not repeated.any():
        return
    df["_row"] = frame.rows[index]
    first = df.groupby(key, sort=False, dropna=False)["_row"].transform("first").to_numpy()
    bad = _where(repeated)
    parts = [df[c].iloc[bad].astype(str).reset_index(drop=True) for c in key]
    value = parts[0]
    for part in parts[1:]:
        value = value + " / " + part
    detail = "repeats the key of row " + pd.Series(first[bad]).astype(str)  # vectorised: many repeats stay cheap
    problems.add(frame, index[bad], ", ".join(key), value, RULE_UNIQUE, "(" + ", ".join(key) + ")", detail,
                 "keep one row per key, or correct the key")


# The rules beyond single cells, in words, per table (the data dictionary prints these).
DOMAIN_RULES: dict[str, list[str]] = {
    "members": ["left_on, when given, is on or after joined_on."],
    "facilities": ["latitude and longitude are both given or both empty."],
    "certifications": [
        "standard_version belongs to standard (PS-* versions for PS, CoC-* versions for CoC).",
        "expires_on is after issued_on.",
    ],
    "audit_findings": ["criterion starts with its principle number (criterion 5.1 belongs to principle 5)."],
    "risks": [
        "severity is the band of likelihood x consequence: "
        + ", ".join(
            f"{sev.value} from {lowest}" for lowest, sev in sorted(vocab.SEVERITY_BANDS, key=lambda band: band[0])
        )
        + " (an empty severity is derived; a different one is refused).",
        "review_on is on or after revised_on.",
    ],
    "coc_reports": [
        "(stage, material) is a valid CoC input: "
        + "; ".join(f"{s.value} takes {m.value}" for s, m in vocab.COC_INPUT_SOURCE)
        + ".",
        "Mass balance: output_t <= input_t x yield + carried_forward_t (tolerance 1e-6 relative), with yields "
        + ", ".join(f"{s.value}/{m.value} {f:g}" for (s, m), f in vocab.COC_YIELD_FACTOR.items())
        + ". An error unless ASI_MASS_BALANCE=warn.",
    ],
}


def check_domain_rules(frame: Frame, problems: ProblemLog, mass_balance: str) -> None:
    """The rules a row must meet beyond its single cells."""
    name = frame.table
    if name == "certifications":
        _check_version(frame, problems)
        _check_order(frame, problems, "issued_on", "expires_on", strict=True)
    elif name == "members":
        _check_order(frame, problems, "joined_on", "left_on", strict=False)
    elif name == "facilities":
        _check_coordinates(frame, problems)
    elif name == "audit_findings":
        _check_criterion(frame, problems)
    elif name == "risks":
        _check_severity(frame, problems)
        _check_order(frame, problems, "revised_on", "review_on", strict=False)
    elif name == "coc_reports":
        _check_coc(frame, problems, mass_balance)


def _check_version(frame: Frame, problems: ProblemLog) -> None:
    ok = frame.ok["standard"] & frame.ok["standard_version"]
    index = _where(ok)
    if not index.size:
        return
    standard = _take(frame.typed["standard"], index).to_pandas()
    version = _take(frame.typed["standard_version"], index).to_pandas()
    expected = version.map({v.value: s.value for v, s in vocab.STANDARD_OF_VERSION.items()})
    bad = _where((expected != standard).to_numpy())
    if not bad.size:
        return
    versions_of = {
        s.value: ", ".join(v.value for v, vs in vocab.STANDARD_OF_VERSION.items() if vs == s) for s in vocab.Standard
    }
    bad_standard = standard.iloc[bad].reset_index(drop=True)
    problems.add(
        frame, index[bad], "standard_version", version.iloc[bad], RULE_VERSION, "",
        "does not belong to standard '" + bad_standard + "'",
        "use a version of " + bad_standard + ": " + bad_standard.map(versions_of) + ", or correct the standard",
    )


def _check_order(frame: Frame, problems: ProblemLog, earlier: str, later: str, *, strict: bool) -> None:
    ok = frame.ok[earlier] & frame.ok[later] & frame.present[later]
    index = _where(ok)
    if not index.size:
        return
    first = _take(frame.typed[earlier], index)
    second = _take(frame.typed[later], index)
    wrong = _mask(pc.less_equal(second, first) if strict else pc.less(second, first))
    bad = index[wrong]
    if not bad.size:
        return
    relation = "after" if strict else "on or after"
    earlier_values = _take(frame.typed[earlier], bad).cast(pa.string()).to_pandas()
    problems.add(
        frame, bad, later, _take(frame.typed[later], bad).cast(pa.string()), RULE_DATE_ORDER,
        f"{later} {'>' if strict else '>='} {earlier}", f"is not {relation} {earlier} " + earlier_values,
        f"correct {later} or {earlier} so that {later} is {relation} {earlier}",
    )


def _check_coordinates(frame: Frame, problems: ProblemLog) -> None:
    lat = frame.present["latitude"]
    lon = frame.present["longitude"]
    for missing, given in (("latitude", lon & ~lat), ("longitude", lat & ~lon)):
        other = "longitude" if missing == "latitude" else "latitude"
        problems.add(
            frame, _where(given), missing, None, RULE_COORDINATES, "",
            f"the cell is empty while {other} is given",
            "give both latitude and longitude, or leave both empty",
        )


def _check_severity(frame: Frame, problems: ProblemLog) -> None:
    index = _where(frame.ok["likelihood"] & frame.ok["consequence"] & frame.ok["severity"])
    if not index.size:
        return
    likelihood = _take(frame.typed["likelihood"], index)
    consequence = _take(frame.typed["consequence"], index)
    expected = _severity_codes(likelihood, consequence)
    given = pd.Series(_take(frame.typed["severity"], index).to_pylist(), dtype=object)
    bad = _where((expected != given).to_numpy())
    if not bad.size:
        return
    rating = pd.Series(likelihood.to_pylist(), dtype=object).iloc[bad].astype(str).reset_index(drop=True)
    rating = rating + " x " + pd.Series(consequence.to_pylist(), dtype=object).iloc[bad].astype(str).reset_index(
        drop=True)
    want = expected.iloc[bad].reset_index(drop=True)
    problems.add(
        frame, index[bad], "severity", given.iloc[bad].reset_index(drop=True), RULE_SEVERITY,
        "likelihood x consequence", "does not match likelihood x consequence " + rating + ", which is " + want,
        "write " + want + ", or leave severity empty so that it is derived from likelihood and consequence",
    )


def _check_criterion(frame: Frame, problems: ProblemLog) -> None:
    index = _where(frame.ok["principle"] & frame.ok["criterion"])
    if not index.size:
        return
    criterion = _take(frame.typed["criterion"], index)
    number = pc.cast(pc.list_element(pc.split_pattern(criterion, "."), 0), pa.int64())
    principle = _take(frame.typed["principle"], index)
    bad = index[_mask(pc.not_equal(number, principle))]
    if not bad.size:
        return
    principles = _take(frame.typed["principle"], bad).cast(pa.string()).to_pandas()
    problems.add(
        frame, bad, "criterion", _take(frame.typed["criterion"], bad), RULE_CRITERION, "",
        "does not belong to principle " + principles,
        "write a criterion of principle " + principles + " (e.g. " + principles + ".1), or correct the principle",
    )


def _check_coc(frame: Frame, problems: ProblemLog, mass_balance: str) -> None:
    index = _where(frame.ok["stage"] & frame.ok["material"])
    if not index.size:
        return
    stage = _take(frame.typed["stage"], index).to_pandas().reset_index(drop=True)
    material = _take(frame.typed["material"], index).to_pandas().reset_index(drop=True)
    pair = stage + "|" + material
    factors = {f"{s.value}|{m.value}": f for (s, m), f in vocab.COC_YIELD_FACTOR.items()}
    valid = {f"{s.value}|{m.value}" for s, m in vocab.COC_INPUT_SOURCE}
    is_pair = pair.isin(valid).to_numpy()
    bad = _where(~is_pair)
    if bad.size:
        inputs_of = {
            s.value: ", ".join(m.value for (ps, m) in vocab.COC_INPUT_SOURCE if ps == s) for s in vocab.CocStage
        }
        bad_stage = stage.iloc[bad].reset_index(drop=True)
        problems.add(
            frame, index[bad], "material", material.iloc[bad], RULE_COC_PAIR, "",
            "is not an input material of stage '" + bad_stage + "'",
            "for stage " + bad_stage + " use " + bad_stage.map(inputs_of) + ", or correct the stage",
        )
    numbers = frame.ok["input_t"] & frame.ok["output_t"] & frame.ok["carried_forward_t"]
    checked = is_pair & numbers[index]
    rows = index[checked]
    if not rows.size:
        return
    factor = pair[checked].map(factors).to_numpy(dtype=float)
    input_t = _take(frame.typed["input_t"], rows).to_numpy(zero_copy_only=False)
    output_t = _take(frame.typed["output_t"], rows).to_numpy(zero_copy_only=False)
    carried = _take(frame.typed["carried_forward_t"], rows).to_numpy(zero_copy_only=False)
    limit = input_t * factor + carried
    over = output_t > limit * (1 + MASS_BALANCE_TOLERANCE) + 1e-9
    if not over.any():
        return
    fmt = np.vectorize(lambda v: f"{v:,.3f}".rstrip("0").rstrip("."), otypes=[object])
    detail = (
        "is more than input_t " + fmt(input_t[over]) + " x yield " + factor[over].astype(str) + " + carried_forward_t "
        + fmt(carried[over]) + " = " + fmt(limit[over])
    )
    hint = (
        "check the tonnes reported: output cannot exceed input times the stage's yield plus the balance carried "
        "forward" + ("" if mass_balance == ERROR else " (reported as a warning because ASI_MASS_BALANCE=warn)")
    )
    problems.add(
        frame, rows[over], "output_t", _take(frame.typed["output_t"], rows[over]), RULE_MASS_BALANCE,
        "output_t <= input_t x yield + carried_forward_t", detail, hint,
        severity=ERROR if mass_balance == ERROR else WARNING,
    )


def check_references(frames: dict[str, Frame], problems: ProblemLog) -> None:
    """Every reference (scalar and list) points at an existing key, across the whole set."""
    for name, spec in TABLES.items():
        child = frames.get(name)
        if child is None or child.num_rows == 0:
            continue
        for column, (parent_name, parent_column) in spec.references.items():
            parent = frames.get(parent_name)
            if not _needs_check(child, parent, parent_column):
                continue
            keys = _key_values(parent, parent_column)
            index = _where(child.ok[column])
            values = _take(child.typed[column], index).cast(pa.string())
            bad = index[~_mask(pc.is_in(values, keys))]
            problems.add(
                child, bad, column, _take(child.typed[column], bad), RULE_REFERENCE, f"{parent_name}.{parent_column}",
                f"matches no {parent_column} in {parent_name}{_where_from(parent, parent_name)}",
                f"add it to {parent_name} or correct {column}",
            )
            if child.base is not None and parent is not None and parent.removes_keys:
                _check_kept_rows(child, column, parent_name, parent_column, keys, problems)
    for (name, column), (parent_name, parent_column) in LIST_REFERENCES.items():
        child = frames.get(name)
        if child is None or child.num_rows == 0:
            continue
        parent = frames.get(parent_name)
        if not _needs_check(child, parent, parent_column):
            continue
        keys = _key_values(parent, parent_column)
        lists = child.typed[column]
        flat = pc.list_flatten(lists)
        parents = np.asarray(pc.list_parent_indices(lists).to_numpy(), dtype=np.int64)
        bad = _where(child.ok[column][parents] & ~_mask(pc.is_in(flat, keys)))
        if bad.size:
            problems.add(
                child, parents[bad], column, _take(flat, bad), RULE_LIST_REFERENCE, f"{parent_name}.{parent_column}",
                f"in the list matches no {parent_column} in {parent_name}{_where_from(parent, parent_name)}",
                f"add it to {parent_name} or remove it from {column}",
            )


def _needs_check(child: Frame, parent: Frame | None, parent_column: str) -> bool:
    if parent is not None and parent.num_rows and not parent.present[parent_column].any() and \
            parent_column not in parent.given and parent.base is None:
        return False  # the key column is missing from the parent's file: reported once there, not per child row
    # Rows kept unchanged from the current snapshot were checked together when it was made; they are
    # checked again only when the parent loses rows (a replaced table or a deletion list).
    return child.is_supplied or (parent is not None and parent.is_supplied and parent.removes_keys)


def _kept_base(frame: Frame) -> np.ndarray:
    """Positions in `frame.base` of the snapshot rows an update keeps (updated or not)."""
    if frame.base is None or frame.order_index is None:
        return np.zeros(0, dtype=np.int64)
    kept = frame.order_index[frame.order_index < frame.base.num_rows]
    return kept


def _key_values(parent: Frame | None, column: str) -> pa.Array:
    if parent is None or (parent.num_rows == 0 and parent.base is None):
        return pa.array([], pa.string())
    # Keys that failed their own check still count here, so one bad key is reported once, not again per child.
    values = parent.raw[column] if parent.is_supplied else parent.typed[column]
    values = values.cast(pa.string())
    if parent.base is not None:
        base_values = parent.base[column].combine_chunks().take(pa.array(_kept_base(parent), pa.int64()))
        values = pa.concat_arrays([values, base_values.cast(pa.string())])
    return pc.unique(values.drop_null())


def _check_kept_rows(  # noqa: PLR0917
    child: Frame, column: str, parent_name: str, parent_column: str, keys: pa.Array, problems: ProblemLog
) -> None:
    """An update keeps snapshot rows of `child` that point at rows the parent has just lost: name them."""
    kept = _kept_base(child)
    values = child.base[column].combine_chunks().take(pa.array(kept, pa.int64())).cast(pa.string())
    bad = _where(_mask(pc.is_valid(values)) & ~_mask(pc.is_in(values, keys)))
    if not bad.size:
        return
    label = f"{child.table}.parquet (current snapshot, kept by the update of {child.label})"
    shadow = Frame(table=child.table, label=label, order=child.order, rows=kept + 1, is_supplied=False)
    problems.add(
        shadow, bad, column, _take(values, bad), RULE_REFERENCE, f"{parent_name}.{parent_column}",
        f"matches no {parent_column} in {parent_name} after this update",
        f"keep the {parent_name} row, or update or delete this {child.table} row too",
    )


def _where_from(parent: Frame | None, parent_name: str) -> str:
    if parent is None or parent.num_rows == 0:
        return f" (no {parent_name} were supplied or are in the current snapshot)"
    return f" ({parent.label})"


def validate_frames(frames: dict[str, Frame], problems: ProblemLog, mass_balance: str = ERROR) -> None:
    """Run the table and cross-table checks over parsed frames (cell checks ran in parse_frame)."""
    for frame in frames.values():
        if frame.is_supplied:
            check_unique_key(frame, problems)
            check_domain_rules(frame, problems, mass_balance)
    check_references(frames, problems)


def check_header(  # noqa: PLR0917
    frame_label: str, order: int, table: str, header: list[str], problems: ProblemLog, header_row: int | None = None,
    update: bool = False,
) -> list[str]:
    """Missing required, unexpected and repeated columns; returns the usable column names.

    In an update only the key columns must be present: rows already in the snapshot keep the
    values of the columns a file leaves out, and new rows are checked one by one."""
    rules = RULES[table]
    seen: set[str] = set()
    usable: list[str] = []
    for name in header:
        if name in seen:
            problems.add_file(frame_label, order, name, name, RULE_DUPLICATE_COLUMN, "", "appears twice in the header",
                              "keep one column of each name")
            continue
        seen.add(name)
        if name in rules:
            usable.append(name)
            continue
        close = difflib.get_close_matches(name.strip().lower(), list(rules), n=1, cutoff=0.75)
        hint = f"rename it to {close[0]}" if close else f"remove it; the columns of {table} are " + ", ".join(rules)
        problems.add_file(frame_label, order, name, name, RULE_UNEXPECTED_COLUMN, table,
                          f"is not a column of {table}", hint, row=header_row)
    for name, rule in rules.items():
        if rule.required and name not in seen and (not update or name in TABLES[table].key):
            problems.add_file(frame_label, order, name, None, RULE_MISSING_COLUMN, table, "the column is missing",
                              f"add a column named {name} ({rule.description.rstrip('.')})")
    return usable


def validate_tables(
    tables: Mapping[str, pd.DataFrame | pa.Table],
    origins: Mapping[str, str] | None = None,
    *,
    mass_balance: str = ERROR,
) -> list[Problem]:
    """Check in-memory tables as if they were a complete export; rows are numbered from 1.

    `origins` maps a table name to the file name used in messages. Tables not given
    are treated as empty.
    """
    problems = ProblemLog()
    frames: dict[str, Frame] = {}
    for order, (name, data) in enumerate(tables.items()):
        label = (origins or {}).get(name, f"{name} (in memory)")
        if name not in TABLES:
            problems.add_file(label, order, None, name, RULE_UNKNOWN_TABLE, "", "is not a table name",
                              "use one of " + ", ".join(TABLES))
            continue
        arrow = data if isinstance(data, pa.Table) else pa.Table.from_pandas(data, preserve_index=False)
        frames[name] = build_frame(name, label, order, arrow, np.arange(1, arrow.num_rows + 1), problems)
    validate_frames(frames, problems, mass_balance)
    return problems_from_frame(problems.frame())


def build_frame(  # noqa: PLR0917
    table: str, label: str, order: int, data: pa.Table, rows: np.ndarray, problems: ProblemLog,
    header_row: int | None = None, *, update: bool = False, explained: dict[str, np.ndarray] | None = None,
) -> Frame:
    """Check the header and every cell of one supplied table (`explained`: rows per column whose empty
    cell a source profile has reported already)."""
    usable = check_header(label, order, table, list(data.column_names), problems, header_row, update)
    columns: dict[str, pa.Array] = {}
    for name in usable:
        column = data.column(data.column_names.index(name))
        try:
            columns[name] = _as_text(column.combine_chunks())
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError):
            problems.add_file(
                label, order, name, None, RULE_TYPE, str(column.type),
                f"the column has type {column.type}, which cannot be read as {RULES[table][name].type_text()}",
                "export it as text, numbers, dates or a list of text",
            )
    frame = Frame(table=table, label=label, order=order, rows=np.asarray(rows, dtype=np.int64),
                  explained=dict(explained or {}))
    parse_frame(frame, columns, problems)
    return frame


def build_key_frame(  # noqa: PLR0917
    table: str, label: str, order: int, data: pa.Table, rows: np.ndarray, problems: ProblemLog,
    header_row: int | None = None,
) -> dict[str, pa.Array] | None:
    """The typed keys of a deletion list (a file holding a table's key columns); None if a key column is
    missing. Rows with a bad key are reported and left out."""
    key = TABLES[table].key
    header = list(data.column_names)
    missing = [c for c in key if c not in header]
    for column in missing:
        problems.add_file(label, order, column, None, RULE_DELETION, table, "the key column is missing",
                          f"a deletion list for {table} holds its key columns: " + ", ".join(key))
    for column in header:
        if column not in key:
            problems.add_file(label, order, column, column, RULE_DELETION, table, f"is not a key column of {table}",
                              "a deletion list holds only " + ", ".join(key), row=header_row)
    if missing:
        return None
    frame = Frame(table=table, label=label, order=order, rows=np.asarray(rows, dtype=np.int64))
    rules = RULES[table]
    for column in key:
        _parse_scalar(frame, rules[column], _as_text(data[column].combine_chunks()), problems)
    ok = np.logical_and.reduce([frame.ok[c] for c in key])
    return {c: frame.typed[c].filter(pa.array(ok)) for c in key}


def key_strings(columns: Mapping[str, pa.Array], key: tuple[str, ...]) -> pa.Array:
    """One text per row standing for a (possibly multi-column) key; null where a part is null."""
    parts = [pc.cast(columns[c], pa.string()) for c in key]
    return parts[0] if len(parts) == 1 else pc.binary_join_element_wise(*parts, "\x1f")


def trusted_frame(table: str, label: str, order: int, data: pa.Table) -> Frame:
    """A table kept from the current snapshot: already valid, taken as it is.

    A column the contract has gained since that snapshot was written is added empty.
    """
    schema = arrow_schema(TABLES[table])
    n = data.num_rows
    columns = []
    for column in schema:
        if column.name in data.column_names:
            columns.append(data[column.name].cast(column.type))
        elif pa.types.is_list(column.type):
            columns.append(pa.array([[]] * n, column.type))
        else:
            columns.append(pa.nulls(n, column.type))
    data = pa.table(columns, schema=schema)
    frame = Frame(table=table, label=label, order=order, rows=np.arange(1, n + 1), is_supplied=False)
    for name in data.column_names:
        column = data[name].combine_chunks()
        frame.typed[name] = column
        frame.raw[name] = column
        frame.ok[name] = _mask(pc.is_valid(column))
        frame.present[name] = frame.ok[name]
    return frame

