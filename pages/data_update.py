"""Data › Update (Secretariat): upload exports, read the report, preview what changes, publish, roll back."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import streamlit as st

from asi_me.data.contract import TABLES
from asi_me.data.vocab import Role
from asi_me.ingest import release
from asi_me.ingest.pipeline import Limits, UnreadableInputError, grouped_problems
from asi_me.ingest.profiles import ProfileError, profiles
from asi_me.ingest.template import template_bytes
from asi_me.ui import cache
from asi_me.ui.context import page_context
from asi_me.ui.widgets import empty_state

ctx = page_context()
data_dir: Path = ctx.settings.data_dir
if ctx.viewer.role is not Role.SECRETARIAT:  # the router lists this page for the Secretariat only
    empty_state("This screen is for the Secretariat.", hint="Log in with a Secretariat account.")
    st.stop()


def _user() -> str:
    try:
        if st.user.get("is_logged_in"):
            return str(st.user.get("email") or "secretariat")
    except Exception:  # noqa: S110 - no login configured: the demo role switch
        pass
    return "secretariat (no login)"


user = _user()
state = st.session_state
st.caption(
    "Bring this month's exports in: upload them, read what the checks found, see what would change on every "
    "table and tile, then publish. Nothing you do here is visible to the public or to members until you press "
    "Publish, and every step is written to the ingest log with your name."
)

# ------------------------------------------------------------------ 1. upload
# Publish and roll back run as button callbacks (once per click, before the page is drawn again);
# the check's button only asks for it: it runs where the button is, under a spinner, and the
# report below shows its result.
limits = Limits.from_env()
names = ["detect from the headers", *profiles()]


def _check() -> None:
    uploads = state.get("update_files") or []
    state.pop("update_published", None)
    state.pop("update_message", None)
    too_big = [f.name for f in uploads if f.size / 1e6 > limits.max_file_mb]
    if too_big:
        state["update_message"] = f"{', '.join(too_big)} exceed the limit of {limits.max_file_mb:g} MB per file."
        return
    folder = Path(tempfile.mkdtemp(prefix="asi-upload-"))
    try:
        paths = []
        for upload in uploads:
            path = folder / Path(upload.name).name
            path.write_bytes(upload.getvalue())
            paths.append(path)
        chosen = state.get("update_profile", names[0])
        state["update_prepared"] = release.prepare(
            paths, data_dir, user, files=[u.name for u in uploads],
            profile=None if chosen == names[0] else chosen, replace=set(state.get("update_replace") or ()),
            keep_valid=bool(state.get("update_keep_valid")), mass_balance=ctx.settings.mass_balance,
        )
    except (UnreadableInputError, ProfileError) as exc:
        state.pop("update_prepared", None)
        state["update_message"] = f"The files cannot be read: {exc}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _publish() -> None:
    prepared = state.get("update_prepared")
    if prepared is None:
        return
    try:
        release.publish(data_dir, prepared.snapshot_id, user, expected_current=prepared.previous_id)
    except RuntimeError as exc:
        state["update_message"] = str(exc)
        return
    cache.clear()
    state["update_published"] = prepared.snapshot_id
    state.pop("update_prepared", None)


def _roll_back() -> None:
    target = state.get("update_rollback_target")
    if target:
        release.roll_back(data_dir, target, user)
        cache.clear()
        state["update_published"] = target
        state.pop("update_prepared", None)


st.header("1. Upload exports")
with st.container(border=True, key="update_upload"):
    uploads = st.file_uploader(
        "CSV, XLSX or Parquet files (one table each, or an export a source profile reads)",
        type=["csv", "xlsx", "parquet"], accept_multiple_files=True, key="update_files",
        help=f"Each file may be up to {limits.max_file_mb:g} MB.",
    )
    c1, c2 = st.columns(2)
    with c1:
        st.selectbox("Source profile", names, key="update_profile",
                     help="How the export's columns and words map onto the tables (docs/ingest.md).")
        st.checkbox("Publish the valid rows and set the others aside (quarantine)", key="update_keep_valid")
    with c2:
        st.multiselect("Tables the files replace entirely (default: add and update rows by key)",
                       list(TABLES), key="update_replace")
    st.button("Check and preview", type="primary", key="update_check", disabled=not uploads,
              on_click=lambda: state.update(update_run_check=True))
    if state.pop("update_run_check", False):
        # Checking a large export takes seconds (1M rows: about 3 s): say so while it runs.
        with st.spinner(f"Checking {len(uploads)} file{'s' if len(uploads) != 1 else ''} and building the "
                        "preview…", show_time=True):
            _check()
if state.get("update_message"):
    st.error(state["update_message"])

# ------------------------------------------------------------------ 2. report
prepared: release.Prepared | None = state.get("update_prepared")
if prepared is not None:
    st.header("2. What the checks found")
    result = prepared.result
    for label, profile in result.profiles.items():
        st.caption(f"{label} was read with the profile **{profile}**.")
    if result.quarantined_rows:
        st.warning(f"{result.quarantined_rows} rows have errors and are set aside; the other rows can be published.")
    if result.ok:
        st.success(f"No errors ({result.warnings} warnings).", icon=":material/check_circle:")
    else:
        errors = f"{result.errors} error" + ("" if result.errors == 1 else "s")
        st.error(f"{errors}: nothing can be published until they are fixed (or use quarantine).",
                 icon=":material/error:")
    if len(result.problems):
        st.dataframe(grouped_problems(result.problems), hide_index=True, key="update_report")
        st.download_button(
            "Download every problem (CSV)", result.problems.drop(columns=["detail", "hint"]).to_csv(index=False),
            file_name="ingest-report.csv", mime="text/csv", key="update_report_csv", on_click="ignore",
        )
    if result.quarantine is not None:
        st.download_button(
            "Download the rows set aside (CSV)", result.quarantine.to_csv(index=False), file_name="quarantine.csv",
            mime="text/csv", key="update_quarantine_csv", on_click="ignore",
        )

# ------------------------------------------------------------------ 3. preview and publish
if prepared is not None and prepared.ok:
    st.header("3. Preview: what publishing changes")
    if prepared.snapshot_id == prepared.previous_id:
        st.info("The files hold exactly what is published already; there is nothing to publish.")
    else:
        changes = release.table_changes(data_dir, prepared.previous_id, prepared.snapshot_id)
        moved = changes[(changes["added"] + changes["changed"] + changes["removed"]) > 0]
        st.markdown("**Rows per table**")
        st.dataframe(moved, hide_index=True, key="update_table_changes")
        with st.spinner("Counting every dashboard tile in both snapshots..."):
            tiles = release.tile_changes(data_dir, prepared.previous_id, prepared.snapshot_id)
        st.markdown("**Dashboard tiles as of today** (published → after publishing)")
        st.dataframe(tiles, hide_index=True, key="update_tile_changes",
                     column_config={"change": st.column_config.NumberColumn(format="%+g")})
        st.button(f"Publish snapshot {prepared.snapshot_id}", type="primary", key="update_publish", on_click=_publish)

if state.get("update_published"):
    st.success(f"Snapshot {state['update_published']} is published: every screen now shows it.",
               icon=":material/publish:")

# ------------------------------------------------------------------ 4. history and roll back
st.header("History")
snapshots = release.history(data_dir)
st.dataframe(snapshots, hide_index=True, key="update_history")
earlier = snapshots.loc[~snapshots["is_current"], "snapshot_id"].tolist()
if earlier:
    c1, c2 = st.columns([3, 1], vertical_alignment="bottom")
    with c1:
        st.selectbox("Roll back to", earlier, key="update_rollback_target")
    with c2:
        st.button("Roll back", key="update_rollback", on_click=_roll_back)

# ------------------------------------------------------------------ templates
st.header("Templates")
table = st.selectbox("Excel template for a table", list(TABLES), key="update_template_table",
                     help="The columns, what each holds, and drop-down lists of the allowed codes.")
st.download_button(
    f"Download the {table} template (XLSX)", template_bytes(table), file_name=f"{table}-template.xlsx",
    mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="update_template",
    on_click="ignore", icon=":material/download:",
)
