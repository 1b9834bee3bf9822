"""docs/data-dictionary.md is generated from the contract and never drifts from it."""

from __future__ import annotations

from asi_me.data.dictionary import DICTIONARY_PATH, render_dictionary, write_dictionary


def test_committed_dictionary_matches_the_contract():
    committed = DICTIONARY_PATH.read_text(encoding="utf-8") if DICTIONARY_PATH.exists() else ""
    assert committed == render_dictionary(), (
        "docs/data-dictionary.md is out of date with asi_me/data/contract.py: "
        "run `python -m asi_me dictionary` and commit it."
    )


def test_dictionary_documents_columns_vocabularies_and_rules():
    text = render_dictionary()
    assert "| `standard_version` | code (StandardVersion) | yes | `PS-2014`, `PS-2017`, `PS-2022`, `CoC-2017`, " \
        "`CoC-2022` |  | Standard version audited against. |" in text
    assert "| `latitude` | number, nullable | no |  | >= -90 and <= 90 | WGS84 latitude; may be missing. |" in text
    countries = "| `countries` | list of country code | yes | ISO 3166-1 alpha-2 codes | at least 1 value, joined"
    assert countries in text
    assert "| `year` | integer | yes |  | >= 2015 and <= 2100 |" in text
    assert "- Key (unique): `facility_id`, `reporting_year`, `stage`, `material`" in text
    assert "each value of `toc_node_ids` → `toc_nodes.node_id`" in text
    assert "expires_on is after issued_on." in text
    assert "| `PS-2014` | PS V1 (2014) |" in text


def test_check_mode_reports_a_stale_file(tmp_path, capsys):
    path = tmp_path / "data-dictionary.md"
    path.write_text("# stale\n", encoding="utf-8")
    assert write_dictionary(check=True, path=path) == 1
    assert "run `python -m asi_me dictionary`" in capsys.readouterr().out
    assert write_dictionary(check=False, path=path) == 0
    assert write_dictionary(check=True, path=path) == 0
    assert path.read_text(encoding="utf-8") == render_dictionary()
