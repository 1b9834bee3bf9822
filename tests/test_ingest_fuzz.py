"""Whatever text a cell holds, validation reports problems (with file, row and column) and never crashes."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asi_me.data.contract import TABLES
from asi_me.ingest.validate import validate_tables

cell = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["", " ", "1", "+5", "-0", "12.0", "1e999", "nan", "2021-02-30", "2021-02-28", "PS-2017",
                     "AU", "de", "5.1", "true", "a;b;;", ";", "F001", "bauxite_mining;casthouse"]),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(TABLES)), st.data())
def test_random_cells_never_crash_validation(table, data):
    columns = TABLES[table].columns
    rows = data.draw(st.integers(min_value=1, max_value=4))
    frame = pd.DataFrame(
        {name: pd.Series([data.draw(cell) for _ in range(rows)], dtype=object) for name in columns}
    )

    problems = validate_tables({table: frame}, {table: f"{table}.csv"})

    for problem in problems:
        assert problem.file == f"{table}.csv"
        assert problem.row is not None and 1 <= problem.row <= rows
        assert problem.column
        assert problem.message.startswith(f"{table}.csv row {problem.row}, column {problem.column}: ")
