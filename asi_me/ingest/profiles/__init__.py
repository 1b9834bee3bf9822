"""Source profiles: how a real export (elementAl, Insightly, educationAl, the public list) maps onto a table.

A profile is a TOML file in this folder (see docs/ingest.md, "Source profiles"). It names the
table, the export's headers for each contract column (first one present wins, case and spacing
ignored), how its words map onto codes (`[values.<column>]`, with "" for "not stated" and "*" for
every other word), extra list separators, fixed defaults, look-ups of ids by name among the
resulting snapshot's rows (`[lookup.<column>]`), and ids made from a row's facts (`[ids.<column>]`).
Applying a profile turns the export into a table of text cells in the contract's shape, which the
ordinary validation then reads; nothing here decides whether a value is valid.
"""

from __future__ import annotations

import hashlib
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from asi_me.data import vocab
from asi_me.data.contract import TABLES

FOLDER = Path(__file__).resolve().parent
RULE_LOOKUP = "look-up by name"


class ProfileError(ValueError):
    """A profile file is malformed, or a profile name is unknown."""


@dataclass(frozen=True)
class Lookup:
    """Find a column's id among `table`'s rows whose columns equal the row's helper columns."""

    table: str
    match: dict[str, str]  # column of `table` -> this profile's column holding the value to match


@dataclass(frozen=True)
class Profile:
    name: str
    title: str
    table: str
    description: str
    path: Path
    detect: tuple[str, ...]
    columns: dict[str, tuple[str, ...]]  # contract or helper column -> export headers
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    separators: dict[str, str] = field(default_factory=dict)
    defaults: dict[str, str] = field(default_factory=dict)
    lookups: dict[str, Lookup] = field(default_factory=dict)
    ids: dict[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict)  # column -> (prefix, from)

    def matches(self, header: list[str]) -> bool:
        """Every header the profile is detected by is in `header` (case and spacing ignored)."""
        keys = {vocab.lookup_key(h) for h in header}
        return all(vocab.lookup_key(h) in keys for h in self.detect)


def _profile(path: Path) -> Profile:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"Profile {path.name} is not valid TOML: {exc}.") from exc
    missing = [k for k in ("name", "title", "table", "columns") if k not in raw]
    if missing:
        raise ProfileError(f"Profile {path.name} lacks {', '.join(missing)}.")
    table = raw["table"]
    if table not in TABLES:
        raise ProfileError(f"Profile {path.name} names table {table!r}, which is not one of {', '.join(TABLES)}.")
    columns = {c: tuple([h] if isinstance(h, str) else h) for c, h in raw["columns"].items()}
    lookups = {
        c: Lookup(spec["table"], dict(spec["match"])) for c, spec in raw.get("lookup", {}).items()
    }
    ids = {c: (spec.get("prefix", ""), tuple(spec["from"])) for c, spec in raw.get("ids", {}).items()}
    for column in [*lookups, *ids]:
        if column not in TABLES[table].columns:
            raise ProfileError(f"Profile {path.name} derives {column!r}, which is not a column of {table}.")
    values = {
        c: {("*" if k == "*" else vocab.lookup_key(k)): v for k, v in words.items()}
        for c, words in raw.get("values", {}).items()
    }
    return Profile(
        name=raw["name"], title=raw["title"], table=table, description=raw.get("description", "").strip(),
        path=path, detect=tuple(raw.get("detect", [])), columns=columns, values=values,
        separators=dict(raw.get("separators", {})), defaults=dict(raw.get("defaults", {})), lookups=lookups, ids=ids,
    )


@cache
def profiles(folder: Path = FOLDER) -> dict[str, Profile]:
    """Every profile of the folder, by name."""
    out: dict[str, Profile] = {}
    for path in sorted(folder.glob("*.toml")):
        profile = _profile(path)
        out[profile.name] = profile
    return out


def get(name: str) -> Profile:
    known = profiles()
    if name not in known:
        raise ProfileError(f"There is no source profile named {name!r}; the profiles are {', '.join(known)}.")
    return known[name]


def detect(header: list[str]) -> list[Profile]:
    """The profiles whose detection headers are all in `header`."""
    return [p for p in profiles().values() if p.detect and p.matches(header)]


# --------------------------------------------------------------------------- applying


@dataclass
class Applied:
    """An export in the contract's shape, plus what applying the profile found."""

    data: pa.Table  # text columns named after the contract's columns
    explained: dict[str, np.ndarray]  # per column, rows already reported here (no second "required")
    problems: list[tuple[np.ndarray, str, Any, str, str, Any, Any]]  # (rows, column, values, rule, c, detail, hint)


def _column(data: pa.Table, headers: tuple[str, ...]) -> pa.Array | None:
    by_key = {vocab.lookup_key(name): name for name in data.column_names}
    for header in headers:
        name = by_key.get(vocab.lookup_key(header))
        if name is not None:
            return _text(data[name].combine_chunks())
    return None


def _text(array: pa.Array) -> pa.Array:
    # Trimming and blank cells are the validation's business; here only the type.
    return array.cast(pa.string()) if not pa.types.is_string(array.type) else array


def _map_words(text: pa.Array, words: dict[str, str]) -> pa.Array:
    uniques = pc.unique(text)
    other = words.get("*")

    def one(value: str) -> str | None:
        found = words.get(vocab.lookup_key(value), other if other is not None else value)
        return found or None

    mapped = pa.array([None if v is None else one(v) for v in uniques.to_pylist()], pa.string())
    return mapped.take(pc.index_in(text, value_set=uniques))


def apply(profile: Profile, data: pa.Table, resulting: dict[str, pa.Table]) -> Applied:
    """The export `data` read through `profile`; `resulting` holds the tables ids are looked up in."""
    n = data.num_rows
    cells: dict[str, pa.Array] = {}
    for column, headers in profile.columns.items():
        found = _column(data, headers)
        if found is not None:
            cells[column] = found
    for column, value in profile.defaults.items():
        fixed = pa.array([value] * n, pa.string())
        cells[column] = pc.coalesce(cells[column], fixed) if column in cells else fixed
    for column, words in profile.values.items():
        if column in cells:
            cells[column] = _map_words(cells[column], words)
    for column, pattern in profile.separators.items():
        if column in cells:
            cells[column] = pc.replace_substring_regex(cells[column], pattern, ";")
    explained: dict[str, np.ndarray] = {}
    problems: list[tuple[np.ndarray, str, Any, str, str, Any, Any]] = []
    for column, lookup in profile.lookups.items():
        if column in cells and pc.any(pc.is_valid(cells[column])).as_py():
            continue  # the export carries the id itself
        _look_up(column, lookup, cells, resulting.get(lookup.table), n, explained, problems)
    derived = np.zeros(n, dtype=bool)
    for column, (prefix, parts) in profile.ids.items():
        if column in cells and pc.all(pc.is_valid(cells[column])).as_py():
            continue
        given = cells.get(column, pa.nulls(n, pa.string()))
        made, complete = _make_ids(prefix, [cells.get(p) for p in parts], n)
        fill = ~np.asarray(pc.is_valid(given).to_numpy(zero_copy_only=False), dtype=bool)
        cells[column] = pc.if_else(pa.array(fill), made, given)
        derived |= fill & complete
        # A row missing a fact the id is made from is reported for that fact, not again for the id.
        explained[column] = fill & ~complete
    contract = TABLES[profile.table].columns
    if derived.any() and "derived_columns" in contract:
        names = [",".join(c for c in profile.ids) if d else None for d in derived]
        cells["derived_columns"] = pa.array(names, pa.string())
    out = {c: cells[c] for c in contract if c in cells}
    table = pa.table(out) if out else pa.table({c: pa.nulls(n, pa.string()) for c in contract[:1]})
    return Applied(table, explained, problems)


def _make_ids(prefix: str, parts: list[pa.Array | None], n: int) -> tuple[pa.Array, np.ndarray]:
    if any(p is None for p in parts):
        return pa.nulls(n, pa.string()), np.zeros(n, dtype=bool)
    joined = pc.binary_join_element_wise(*[pc.utf8_lower(p) for p in parts], "|")
    complete = np.asarray(pc.is_valid(joined).to_numpy(zero_copy_only=False), dtype=bool)
    ids = [None if v is None else prefix + hashlib.sha1(v.encode(), usedforsecurity=False).hexdigest()[:10].upper()
           for v in joined.to_pylist()]
    return pa.array(ids, pa.string()), complete


def _look_up(  # noqa: PLR0917 - one look-up's inputs and outputs
    column: str, lookup: Lookup, cells: dict[str, pa.Array], table: pa.Table | None, n: int,
    explained: dict[str, np.ndarray], problems: list,
) -> None:
    """Fill `column` with the id of the one row of `lookup.table` whose columns match; report the rest."""
    key_column = TABLES[lookup.table].key[0]
    helpers = {target: cells.get(helper) for target, helper in lookup.match.items()}
    if all(v is None for v in helpers.values()):
        return
    candidates: dict[tuple[str, ...], list[str]] = {}
    names: dict[str, str] = {}
    targets = [t for t, v in helpers.items() if v is not None]
    if table is not None and table.num_rows:
        columns = [table[t].to_pylist() for t in targets]
        for key, *values in zip(table[key_column].to_pylist(), *columns, strict=True):
            normal = tuple(_normal(t, v) for t, v in zip(targets, values, strict=True))
            candidates.setdefault(normal, []).append(key)
            if "name" in targets:
                names[vocab.lookup_key(values[targets.index("name")] or "")] = values[targets.index("name")]
    row_values = [helpers[t].to_pylist() for t in targets]
    ids: list[str | None] = []
    failed_rows: list[int] = []
    failed_values: list[str] = []
    failed_hints: list[str] = []
    for i, values in enumerate(zip(*row_values, strict=True)):
        if any(v is None for v in values):
            ids.append(None)
            continue
        normal = tuple(_normal(t, v) for t, v in zip(targets, values, strict=True))
        found = candidates.get(normal, [])
        if len(found) == 1:
            ids.append(found[0])
            continue
        ids.append(None)
        failed_rows.append(i)
        shown = " / ".join(str(v) for v in values)
        failed_values.append(shown)
        several = [v for t, v in zip(targets, values, strict=True) if t == "country" and _several_countries(v)]
        if several:
            failed_hints.append(
                f"the cell names several countries ({', '.join(_several_countries(several[0]))}): a row is one "
                "certified entity in one country, so write one row per country"
            )
        elif found:
            failed_hints.append(f"{len(found)} {lookup.table} match ({', '.join(found[:5])}): give {column} instead")
        else:
            near = vocab.suggestions(str(values[targets.index("name")]), names) if "name" in targets else []
            failed_hints.append(
                ("did you mean " + " or ".join(f"'{x}'" for x in near) + "? Otherwise " if near else "")
                + f"add it to {lookup.table} first, or give {column}"
            )
    cells[column] = pa.array(ids, pa.string())
    rows = np.asarray(failed_rows, dtype=np.int64)
    mask = np.zeros(n, dtype=bool)
    mask[rows] = True
    explained[column] = mask
    if rows.size:
        detail = [
            f"matches no single row of {lookup.table} by " + " and ".join(targets) for _ in failed_rows
        ]
        problems.append((rows, column, failed_values, RULE_LOOKUP, f"{lookup.table} by {', '.join(targets)}",
                         detail, failed_hints))


def _normal(target: str, value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    if target == "country":
        return vocab.country_lookup().get(vocab.lookup_key(text), vocab.lookup_key(text))
    return vocab.lookup_key(text)


def _several_countries(value: str) -> list[str]:
    import re  # noqa: PLC0415

    parts = [p for p in re.split(r"\s*(?:;|,|/|&|\+|\band\b)\s*", value) if p]
    codes = [vocab.country_lookup().get(vocab.lookup_key(p)) for p in parts]
    return codes if len(parts) >= 2 and all(codes) else []
