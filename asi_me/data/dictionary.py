"""The data dictionary (docs/data-dictionary.md), generated from the data contract.

Everything here is read off `asi_me.data.contract` (tables, keys, references, models)
and the column rules ingest enforces (`asi_me.ingest.validate.RULES`), so the document
cannot drift from what ingest checks. `python -m asi_me dictionary` rewrites it;
`--check` fails when it is out of date.
"""

from __future__ import annotations

import inspect
from enum import Enum
from pathlib import Path

from asi_me.data import vocab
from asi_me.data.contract import LIST_REFERENCES, LIST_SEPARATOR, TABLES, TableSpec
from asi_me.settings import REPO_ROOT
from asi_me.ingest.validate import DOMAIN_RULES, RULES, ColumnRule

DICTIONARY_PATH = REPO_ROOT / "docs" / "data-dictionary.md"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ").strip()


def _code(text: str) -> str:
    return f"`{text}`"


def _allowed(rule: ColumnRule) -> str:
    if rule.enum is not None:
        return ", ".join(_code(v) for v in rule.allowed)
    if rule.kind == "bool":
        return "`true`, `false`"
    if rule.is_country:
        return "ISO 3166-1 alpha-2 codes"
    return ""


def _constraints(rule: ColumnRule) -> str:
    parts: list[str] = []
    if rule.range_text():
        parts.append(rule.range_text())
    if rule.max_length is not None and rule.enum is None:
        parts.append(f"at most {rule.max_length} characters")
    if rule.pattern is not None and not rule.is_country:
        parts.append(f"pattern {_code(rule.pattern)}")
    if rule.kind == "date":
        parts.append("YYYY-MM-DD")
    if rule.is_list:
        minimum = f"at least {rule.list_min} value{'s' if rule.list_min != 1 else ''}, " if rule.list_min else ""
        parts.append(f"{minimum}joined by `{LIST_SEPARATOR}` in CSV/XLSX")
    return "; ".join(parts)


def _required(rule: ColumnRule) -> str:
    if rule.is_list:
        return "yes" if rule.list_min else "no (empty list)"
    return "no" if rule.nullable else "yes"


def _references(spec: TableSpec) -> list[str]:
    lines = [
        f"`{column}` → `{table}.{key}`" for column, (table, key) in spec.references.items()
    ]
    lines.extend(
        f"each value of `{column}` → `{table}.{key}`"
        for (name, column), (table, key) in LIST_REFERENCES.items()
        if name == spec.name
    )
    return lines


def _table_section(spec: TableSpec) -> list[str]:
    doc = inspect.cleandoc(spec.model.__doc__ or "")
    references = _references(spec)
    lines = [
        f"## {spec.name}",
        "",
        f"**{spec.title}.** {doc}",
        "",
        f"- File: `{spec.name}.csv`, `{spec.name}.xlsx` (or a sheet named `{spec.name}`), `{spec.name}.parquet`",
        "- Key (unique): " + ", ".join(_code(c) for c in spec.key),
        "- References: " + ("; ".join(references) if references else "none"),
        "- Visibility: " + ("public (published aggregates and the public screens may show it)" if spec.is_public
                            else "Secretariat only (not listed, shown or downloadable for any other role)"
                            if spec.is_secretariat_only
                            else "non-public (public screens show it only as published aggregates)"),
    ]
    rules = DOMAIN_RULES.get(spec.name, [])
    if rules:
        lines.append("- Rules across columns: " + " ".join(rules))
    lines += [
        "",
        "| column | type | required | allowed values | constraints | description |",
        "|---|---|---|---|---|---|",
    ]
    for rule in RULES[spec.name].values():
        lines.append(
            "| "
            + " | ".join(
                _cell(x)
                for x in (
                    _code(rule.name),
                    rule.type_text(),
                    _required(rule),
                    _allowed(rule),
                    _constraints(rule),
                    rule.description,
                )
            )
            + " |"
        )
    lines.append("")
    return lines


def _vocabularies() -> list[str]:
    enums: dict[str, type[Enum]] = {}
    for table_rules in RULES.values():
        for rule in table_rules.values():
            if rule.enum is not None:
                enums[rule.enum.__name__] = rule.enum
    lines = ["## Vocabularies", "", "Codes as written in exports, and the words shown on screen.", ""]
    for name in sorted(enums):
        lines += [f"### {name}", "", "| code | label |", "|---|---|"]
        lines += [f"| {_code(str(m.value))} | {_cell(vocab.label(m))} |" for m in enums[name]]
        lines.append("")
    return lines


def render_dictionary() -> str:
    """The whole data dictionary as Markdown."""
    lines = [
        "# Data dictionary",
        "",
        "<!-- Generated from asi_me/data/contract.py by `python -m asi_me dictionary`. Do not edit by hand. -->",
        "",
        "One section per table of a snapshot. Exports are ingested with `python -m asi_me ingest PATH` "
        "(see [ingest.md](ingest.md)); every rule below is checked there.",
        "",
        "Conventions for CSV/XLSX exports:",
        "",
        "- Column names match this document exactly; optional columns may be left out.",
        f"- List columns hold values joined by `{LIST_SEPARATOR}` (e.g. `bauxite_mining{LIST_SEPARATOR}casthouse`).",
        "- Dates are written `YYYY-MM-DD`; Excel date cells are accepted as they are.",
        "- An empty cell is null (missing); spaces around a value are ignored.",
        "- Numbers use `.` as the decimal point and no thousands separators; booleans are `true`/`false`.",
        "",
        "| table | title | key | public |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| [{spec.name}](#{spec.name}) | {_cell(spec.title)} | "
        + ", ".join(_code(c) for c in spec.key)
        + f" | {'yes' if spec.is_public else 'no'} |"
        for spec in TABLES.values()
    ]
    lines.append("")
    for spec in TABLES.values():
        lines += _table_section(spec)
    lines += _vocabularies()
    return "\n".join(lines).rstrip("\n") + "\n"


def write_dictionary(check: bool, path: Path = DICTIONARY_PATH) -> int:
    """Write the dictionary, or with `check` return 1 if the file differs from the contract."""
    text = render_dictionary()
    current = path.read_text(encoding="utf-8") if path.exists() else None
    if check:
        if current != text:
            print(f"{path} is out of date with asi_me/data/contract.py; run `python -m asi_me dictionary` and commit it.")
            return 1
        print(f"{path} is up to date.")
        return 0
    if current == text:
        print(f"{path} is already up to date.")
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return 0
