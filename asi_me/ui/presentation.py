"""Presentation mode for board meetings, and the app's one stylesheet.

`?present=1` (or the sidebar toggle) hides the sidebar and controls, enlarges type
for a 1280×720 projector and adds a footer with the active filters, role and as-of
date. Filters still come from the URL, so switching mode does not reset the view.
"""

from __future__ import annotations

import html

import streamlit as st

from asi_me.ui import state

PRESENT_KEY = "asi_present"

# Always on: tighter top padding, tile and chip styling.
_BASE_CSS = """
<style>
.block-container {padding-top: 2.2rem; padding-bottom: 3rem; max-width: 1500px;}
/* Streamlit draws captions at 60 % opacity (4.0:1 on white); WCAG AA needs 4.5:1 for small text. */
[data-testid="stCaptionContainer"] {opacity: 1; color: #56616d;}
/* Screens' sections are h2 and their parts h3 (headings go down one level at a time), drawn
   at the sizes Streamlit gives h3 and h4. */
[data-testid="stMain"] [data-testid="stHeadingWithActionElements"] h2 {font-size: 1.75rem;}
[data-testid="stMain"] [data-testid="stHeadingWithActionElements"] h3 {font-size: 1.5rem;}
.asi-stamp {color: #3d3d3d; font-size: 0.9rem; margin: -0.4rem 0 0.4rem 0;}
.asi-chips {display: flex; flex-wrap: wrap; gap: 0.35rem; margin: 0.2rem 0 0.6rem 0;}
.asi-chip {border: 1px solid #0072B2; color: #00466e; background: #eef6fb; border-radius: 1rem;
           padding: 0.05rem 0.65rem; font-size: 0.85rem;}
.asi-chip.none {border-color: #bbb; color: #555; background: #f6f6f6;}
.asi-footer {display: none;}
[data-testid="stMetricValue"] {font-variant-numeric: tabular-nums;}
[data-testid="stMetricLabel"] p {white-space: normal; overflow: visible; text-overflow: clip;}
[data-testid="stMetricLabel"], [data-testid="stMetricLabel"] > div {overflow: visible; max-width: 100%;}
.asi-tiles {display: grid; gap: 1rem; margin: 0.25rem 0 0.5rem 0;
            grid-template-columns: repeat(auto-fill, minmax(max(12.5rem, calc((100% - 3rem) / 4)), 1fr));}
.asi-tile {border: 1px solid rgba(49, 51, 63, 0.2); border-radius: 0.5rem; padding: 0.9rem 1rem 0.8rem 1rem;
           background: #fff; display: flex; flex-direction: column; gap: 0.3rem; min-width: 0;}
.asi-tile-head {display: flex; justify-content: space-between; align-items: flex-start; gap: 0.5rem;
                font-size: 0.9rem; line-height: 1.3; color: #1F2A36; min-height: 2.6em;}
.asi-tile-value {font-size: 2.2rem; line-height: 1.15; color: #1F2A36; font-variant-numeric: tabular-nums;
                 overflow-wrap: anywhere;}
.asi-tile-delta {font-size: 0.85rem; color: #5d6875; display: flex; align-items: center; gap: 0.45rem;}
.asi-delta {border-radius: 1rem; padding: 0.05rem 0.5rem; font-weight: 600; font-variant-numeric: tabular-nums;}
.asi-delta.up {background: #e3f4ed; color: #00684a;}
.asi-delta.down {background: #fbe9df; color: #9c3b00;}
.asi-delta.flat {background: #eef0f3; color: #46515d;}
.asi-spark {display: block; width: 100%; height: 2.6rem; margin: 0.35rem 0 0.1rem 0;}
.asi-tile-note {font-size: 0.8rem; line-height: 1.35; color: #5d6875;}
.asi-help {position: relative; flex: none; display: inline-flex; align-items: center; justify-content: center;
           width: 1.1rem; height: 1.1rem; border: 1.5px solid #7b8692; border-radius: 50%; color: #56616d;
           font-size: 0.7rem; font-weight: 700; cursor: help; margin-top: 0.1rem;}
.asi-help:hover::after, .asi-help:focus::after {content: attr(data-tip); position: absolute;
           top: 1.45rem; right: -0.4rem; width: 17rem; background: #1f2a36; color: #fff;
           padding: 0.55rem 0.7rem; border-radius: 0.4rem;
           font-size: 0.8rem; font-weight: 400; line-height: 1.4; z-index: 30; text-align: left;
           box-shadow: 0 2px 8px rgba(0, 0, 0, 0.25);}
.asi-help:focus {outline: 2px solid #0072B2; outline-offset: 2px;}
/* Phones: tiles two per row, nothing wider than the screen, tables scroll inside their card. */
@media (max-width: 640px) {
  .block-container {padding-left: 0.75rem; padding-right: 0.75rem; padding-top: 4rem;}
  .asi-tiles {grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 0.5rem;}
  .asi-tile {padding: 0.55rem 0.6rem;}
  .asi-tile-value {font-size: 1.5rem;}
  .asi-tile-head {font-size: 0.8rem;}
  .asi-help:hover::after, .asi-help:focus::after {width: 12rem; right: -0.2rem;}
  [data-testid="stElementContainer"], [data-testid="stVerticalBlock"], [data-testid="stHorizontalBlock"] {
    max-width: 100%; min-width: 0;}
  [data-testid="stDataFrame"], [data-testid="stTable"] {max-width: 100%; overflow-x: auto;}
  [data-testid="stVegaLiteChart"], [data-testid="stPlotlyChart"], [data-testid="stDeckGlJsonChart"] {
    max-width: 100%; overflow: hidden;}
  h1 {font-size: 1.6rem !important;}
}
</style>
"""

# Presentation: no sidebar, no toolbar, large type, a fixed footer.
_PRESENT_CSS = """
<style>
html {font-size: 20px;}
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stToolbar"], [data-testid="stHeader"], [data-testid="stDecoration"],
[class*="st-key-controls_"], [data-testid="stDownloadButton"] {display: none !important;}
.block-container {padding-top: 1rem; padding-bottom: 4.5rem; max-width: 100%;}
h1 {font-size: 2.1rem !important;}
[data-testid="stMetricValue"] {font-size: 2.6rem;}
[data-testid="stMetricLabel"] p {font-size: 1.05rem;}
.asi-tile-value {font-size: 2.4rem;}
.asi-footer {display: block; position: fixed; left: 0; right: 0; bottom: 0; z-index: 1000;
             background: #1f2a36; color: #fff; font-size: 0.95rem; padding: 0.45rem 1.2rem;}
/* the board deck: one slide per 1280x720 screen */
.st-key-asi_deck_header h1 {font-size: 1.45rem !important; padding: 0; margin: 0;}
.st-key-asi_deck_header {margin-bottom: -0.4rem;}
.asi-deck-count {text-align: center; margin: 0; font-variant-numeric: tabular-nums; color: #1f2a36;}
.asi-deck-tiles .asi-tiles {grid-template-columns: repeat(6, minmax(0, 1fr)); gap: 0.5rem;}
.asi-deck-tiles .asi-tile {padding: 0.45rem 0.55rem; gap: 0.15rem;}
.asi-deck-tiles .asi-tile-head {font-size: 0.68rem; min-height: 2.5em;}
.asi-deck-tiles .asi-tile-value {font-size: 1.7rem;}
.asi-deck-tiles .asi-tile-delta, .asi-deck-tiles .asi-tile-note {font-size: 0.6rem;}
.asi-deck-tiles .asi-spark {height: 1.8rem; margin: 0.1rem 0;}
[class*="st-key-asi_slide_"] [data-testid="stCaptionContainer"] {font-size: 0.6rem;}
.block-container:has(.st-key-asi_deck_header) {padding-bottom: 2.6rem;}
.st-key-asi_board_pack, .st-key-asi_board_pack [data-testid="stDownloadButton"] {display: block !important;}
</style>
"""


def init_from_url() -> None:
    state.restore([PRESENT_KEY])
    st.session_state.setdefault(PRESENT_KEY, st.query_params.get("present") in {"1", "true", "yes"})


def is_presenting() -> bool:
    return bool(st.session_state.get(PRESENT_KEY, False))


def toggle() -> bool:
    """The sidebar switch; keeps ?present=1 in the URL while on."""
    init_from_url()
    st.sidebar.toggle("Presentation mode", key=PRESENT_KEY, on_change=state.changed, args=(PRESENT_KEY,),
                      help="Large type, no controls, filters in a footer: for projectors and board meetings.")
    state.remember([PRESENT_KEY])
    sync_url()
    return is_presenting()


def sync_url() -> None:
    if is_presenting():
        if st.query_params.get("present") != "1":
            st.query_params["present"] = "1"
    elif "present" in st.query_params:
        del st.query_params["present"]


# An embed view (?embed=1&chart=KEY) shows that one chart with its credit line, over the page.
_EMBED_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stHeader"], [data-testid="stToolbar"] {display: none !important;}
[data-testid="stMain"] {overflow: hidden;}
.st-key-asi_chart_%(key)s {position: fixed; inset: 0; z-index: 999; background: #fff;
                           padding: 0.6rem 1rem; overflow: auto;}
.asi-embed-credit {font-size: 0.85rem; color: #1f2a36; margin: 0 0 0.4rem 0;}
</style>
"""


def inject_css(embed: str | None = None) -> None:
    """The app's only stylesheet, plus the presentation or embed overrides when on."""
    safe = "".join(c for c in embed or "" if c.isalnum() or c in "-_")
    st.html(_BASE_CSS + (_PRESENT_CSS if is_presenting() else "") + (_EMBED_CSS % {"key": safe} if safe else ""))


def _leave() -> None:
    state.put(PRESENT_KEY, False)


def footer(parts: list[str], *, leave_button: bool = True) -> None:
    """Fixed footer with the active filters, role and as-of date (visible in presentation mode)."""
    if not is_presenting():
        return
    text = "  ·  ".join(html.escape(p) for p in parts)
    st.html(f'<div class="asi-footer" role="contentinfo">{text}</div>')
    if leave_button:
        leave()


def leave() -> None:
    """The button back to the screens."""
    st.button("Leave presentation mode", on_click=_leave, key="asi_leave_present", type="tertiary",
              icon=":material/close_fullscreen:")
