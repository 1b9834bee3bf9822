"""Accessibility, checked by a tool and by keyboard.

axe-core (pinned in tests/browser/package.json, installed by scripts/test) runs on every
screen each role can open, at a desktop (1400×900) and a phone (390×844) width, with
the WCAG 2.0/2.1 A and AA rules and its best practices. Any serious or critical violation fails, and so does a heading
that skips a level, unless it comes from Streamlit's own markup and is listed in ALLOWED
with its selector and the reason. The map and the Theory of change open with a detail
selected, so their detail panels are checked too.

A keyboard user must reach every control a screen draws by Tab alone, and open each
chart's table view and each expander from the keyboard; axe-core then checks what they
showed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect

from asi_me.data.snapshot import current_folder, read_table
from asi_me.data.vocab import Role

if TYPE_CHECKING:  # fixtures come from conftest.py; these names are for reading only
    from conftest import AppPage, StreamlitServer

pytestmark = pytest.mark.browser

AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
FAILING_IMPACTS = frozenset({"serious", "critical"})
# Rules of lower impact that fail too: headings that skip a level mislead a screen-reader
# user who moves by headings (every screen had one before it was checked).
FAILING_RULES = frozenset({"heading-order"})

DESKTOP = (1400, 900)
PHONE = (390, 844)
WIDTHS = {"desktop": DESKTOP, "phone": PHONE}


@dataclass(frozen=True)
class Screen:
    key: str
    url_path: str
    heading: str
    roles: frozenset[Role] = frozenset(Role)


# The router's screens (asi_me/ui/screens.py); test_browser_screens.py checks the menu matches.
SCREENS: tuple[Screen, ...] = (
    Screen("outcomes", "", "Outcomes dashboard"),
    Screen("map", "map", "Certification map"),
    Screen("coc_flow", "coc_flow", "CoC material flow"),
    Screen("toc", "toc", "Theory of change"),
    Screen("evaluations", "evaluations", "Evaluations & Stories of Change"),
    Screen("data", "data", "Data"),
    Screen("data_update", "data_update", "Data › Update", frozenset({Role.SECRETARIAT})),
)


@dataclass(frozen=True)
class Allowed:
    """A violation in Streamlit's own markup that the app cannot change."""

    rule: str
    selector: str  # a regex on axe's target selector of the node
    reason: str


# Narrow on purpose: one rule, one kind of node, one reason each. Everything else fails.
ALLOWED: tuple[Allowed, ...] = ()


@dataclass(frozen=True)
class Violation:
    rule: str
    impact: str
    help: str
    target: str
    html: str

    def __str__(self) -> str:
        return f"  {self.rule} ({self.impact}): {self.help}\n    at {self.target}\n    {self.html[:200]}"


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE_JS.is_file():
        pytest.fail(
            f"{AXE_JS} is missing: run `npm ci --no-audit --no-fund` in {AXE_JS.parents[2]} "
            "(scripts/test does it) to install the pinned axe-core."
        )
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def demo_member_id(demo_server: StreamlitServer) -> str:
    """A demo member company with certified facilities of its own (its view has the most to show)."""
    folder = current_folder(demo_server.data_dir)
    owner = {row["facility_id"]: row["member_id"] for row in read_table(folder, "facilities").to_pylist()}
    counts: dict[str, int] = {}
    for row in read_table(folder, "certifications").to_pylist():
        counts[owner[row["facility_id"]]] = counts.get(owner[row["facility_id"]], 0) + 1
    assert counts, "the demo data has no certified facility, so no member has a view of its own"
    return max(sorted(counts), key=counts.__getitem__)


def _role_params(role: Role, member_id: str) -> dict[str, str]:
    return {"role": role.value, **({"member": member_id} if role is Role.MEMBER else {})}


@pytest.fixture(scope="module")
def detail_params(demo_server: StreamlitServer) -> dict[str, dict[str, str]]:
    """Query parameters that open a screen's detail part as well: the map's panel for one
    certification, the Theory of change's node with the most indicators and its evidence."""
    folder = current_folder(demo_server.data_dir)
    certifications = read_table(folder, "certifications").to_pylist()
    certified = sorted(row["certification_id"] for row in certifications if row["status"] == "certified")
    nodes: dict[str, int] = {}
    for row in read_table(folder, "indicators").to_pylist():
        nodes[row["toc_node_id"]] = nodes.get(row["toc_node_id"], 0) + 1
    assert certified, "the demo data has no certified facility to open in the map's detail panel"
    assert nodes, "the demo data has no indicator to open in the Theory of change"
    return {"map": {"cert": certified[0]}, "toc": {"node": max(sorted(nodes), key=nodes.__getitem__)}}


def wait_for_charts(app: AppPage) -> None:
    """Charts draw after the script run ends: wait until each visible chart has its canvas or SVG."""
    app.page.wait_for_function(
        """() => [...document.querySelectorAll(
                '[data-testid="stVegaLiteChart"], [data-testid="stDeckGlJsonChart"], [data-testid="stPlotlyChart"]')]
            .filter(chart => chart.offsetParent !== null)
            .every(chart => chart.querySelector('canvas, svg'))""",
        timeout=20_000,
        polling=200,
    )


def axe_violations(app: AppPage, axe_source: str) -> list[Violation]:
    """Run axe-core on the page as drawn; the serious and critical violations, one per node."""
    if not app.page.evaluate("() => typeof window.axe === 'object'"):
        app.page.add_script_tag(content=axe_source)
    results = app.page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags},
                                                   resultTypes: ['violations']});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.map(n => ({target: JSON.stringify(n.target), html: n.html, impact: n.impact})),
            }));
        }""",
        AXE_TAGS,
    )
    found = []
    for rule in results:
        for node in rule["nodes"]:
            impact = node["impact"] or rule["impact"]
            if impact in FAILING_IMPACTS or rule["id"] in FAILING_RULES:
                found.append(Violation(rule["id"], impact, rule["help"], node["target"], node["html"]))
    return found


def is_allowed(violation: Violation) -> bool:
    return any(a.rule == violation.rule and re.search(a.selector, violation.target) for a in ALLOWED)


@pytest.mark.parametrize("width", list(WIDTHS), ids=list(WIDTHS))
@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_axe_finds_no_serious_violation_on_any_screen(
    demo_server: StreamlitServer,
    new_app_page: Callable[..., AppPage],
    axe_source: str,
    demo_member_id: str,
    detail_params: dict[str, dict[str, str]],
    role: Role,
    width: str,
) -> None:
    app = new_app_page(demo_server, *WIDTHS[width])
    report: list[str] = []
    for screen in (s for s in SCREENS if role in s.roles):
        params = {**_role_params(role, demo_member_id), **detail_params.get(screen.key, {})}
        app.open(demo_server.page_url(screen.url_path, **params), heading=screen.heading)
        app.assert_healthy()
        wait_for_charts(app)
        violations = [v for v in axe_violations(app, axe_source) if not is_allowed(v)]
        if violations:
            report.append(f"{screen.heading} ({role.value}, {width}):\n" + "\n".join(map(str, violations)))
    assert not report, "axe-core found serious or critical violations:\n" + "\n".join(report)


# ---------------------------------------------------------------- keyboard

# Every element a person can operate: native controls, ARIA widgets and anything with a
# tabindex. Composite widgets take one Tab stop and move inside by other keys, as the ARIA
# patterns say: radio options and tabs by arrow keys, a select box's "open" arrow by typing
# into its text box, a number's step buttons by the arrow keys in its box. A part of one
# counts as reached when focus lands in its widget; any other control must take focus
# itself.
CONTROLS_JS = """
const INTERACTIVE = 'a[href], button, input, select, textarea, summary, [role="tab"], [role="button"], '
    + '[role="link"], [role="checkbox"], [role="switch"], [role="slider"], [role="combobox"], '
    + '[role="spinbutton"], [role="radio"], [tabindex]';
const visible = el => {
    const box = el.getBoundingClientRect();
    return (box.width > 0 || box.height > 0) && getComputedStyle(el).visibility !== 'hidden'
        && !el.closest('[hidden], [aria-hidden="true"], [inert]');
};
const enabled = el => !el.disabled && el.getAttribute('aria-disabled') !== 'true';
// Focusable regions (the scrolling main area, a tab panel) hold controls but are not one.
const REGION = 'main, [role="tabpanel"], [role="dialog"], [role="region"], [data-testid="stSidebar"], '
    + '[data-testid="stSidebarContent"]';
const isControl = el => el.matches(INTERACTIVE) && el.getAttribute('tabindex') !== '-1' && !el.matches(REGION);
const outermost = el => {
    for (let up = el.parentElement; up; up = up.parentElement) if (isControl(up)) return false;
    return !el.matches(REGION);
};
window.__asiControls = [...document.querySelectorAll(INTERACTIVE)]
    .filter(el => visible(el) && enabled(el) && outermost(el));
window.__asiFocused = [];
document.addEventListener('focusin', event => window.__asiFocused.push(event.target), true);
document.activeElement?.blur();
"""

# Which controls no focus landed on (or, for a part kept out of the Tab order, in its widget).
UNREACHED_JS = """() => {
    const COMPOSITE = '[role="radiogroup"], [role="tablist"], [role="listbox"], [role="grid"], [role="toolbar"], '
        + '[data-testid="stMultiSelect"], [data-testid="stSelectbox"], [data-testid="stNumberInput"]';
    const focused = window.__asiFocused;
    const reached = el => {
        const widget = el.parentElement.closest(COMPOSITE) ?? el;
        return focused.some(f => widget.contains(f));
    };
    const name = el => (el.getAttribute('aria-label') || el.innerText || el.value || '').trim().slice(0, 60);
    return window.__asiControls.filter(el => el.isConnected && !reached(el)).map(
        el => `${el.tagName.toLowerCase()}[role=${el.getAttribute('role')}] "${name(el)}" in `
            + (el.closest('[data-testid]')?.dataset.testid ?? 'the page'));
}"""

# Focus has gone round the whole page once: the first element focused is focused again.
WENT_ROUND_JS = """() => {
    const focused = window.__asiFocused;
    return focused.length > 2 && focused.indexOf(focused[0], 1) > 0;
}"""
MAX_TAB_PRESSES = 1500


def tab_round_the_page(app: AppPage) -> int:
    """Press Tab from the top until focus comes back to where it started; how many presses it took."""
    app.page.evaluate(f"() => {{ {CONTROLS_JS} }}")
    presses = 0
    while presses < MAX_TAB_PRESSES:
        for _ in range(25):
            app.page.keyboard.press("Tab")
        presses += 25
        if app.page.evaluate(WENT_ROUND_JS):
            return presses
    raise AssertionError(f"{app.page.url}: focus did not come back to the top after {MAX_TAB_PRESSES} Tab presses")


KEYBOARD_SCREENS = [
    *((Role.PUBLIC, s) for s in SCREENS if Role.PUBLIC in s.roles),
    *((Role.SECRETARIAT, s) for s in SCREENS),
]


@pytest.mark.parametrize(
    ("role", "screen"), KEYBOARD_SCREENS, ids=[f"{r.value}-{s.key}" for r, s in KEYBOARD_SCREENS]
)
def test_keyboard_reaches_every_control_and_every_chart_table(
    demo_server: StreamlitServer,
    new_app_page: Callable[..., AppPage],
    axe_source: str,
    detail_params: dict[str, dict[str, str]],
    role: Role,
    screen: Screen,
) -> None:
    app = new_app_page(demo_server, *DESKTOP)
    params = {"role": role.value, **detail_params.get(screen.key, {})}
    app.open(demo_server.page_url(screen.url_path, **params), heading=screen.heading)
    app.assert_healthy()
    wait_for_charts(app)

    tab_round_the_page(app)
    unreached = app.page.evaluate(UNREACHED_JS)
    assert not unreached, f"{screen.heading} ({role.value}): Tab never reaches:\n  " + "\n  ".join(unreached)

    # Each chart card's "Chart | Table" tabs: the arrow key from the chart's tab opens its table.
    cards = app.main.locator('[role="tablist"]').filter(has=app.page.get_by_role("tab", name="Table", exact=True))
    for index in range(cards.count()):
        tablist = cards.nth(index)
        if not tablist.is_visible():
            continue
        tablist.get_by_role("tab", name="Chart", exact=True).focus()
        app.page.keyboard.press("ArrowRight")
        table_tab = tablist.get_by_role("tab", name="Table", exact=True)
        expect(table_tab).to_be_focused()
        expect(table_tab).to_have_attribute("aria-selected", "true")
        panel = app.page.locator(f'[id="{table_tab.get_attribute("aria-controls")}"]')
        expect(panel.locator('[data-testid="stDataFrame"]')).to_be_visible()

    # Expanders open from the keyboard too.
    summaries = app.main.locator('[data-testid="stExpander"] summary')
    for index in range(summaries.count()):
        summary = summaries.nth(index)
        if not summary.is_visible() or summary.evaluate("s => s.parentElement.open"):
            continue
        summary.focus()
        app.page.keyboard.press("Enter")
        expect(summary.locator("xpath=..")).to_have_attribute("open", "")

    # What was hidden behind tabs and expanders passes axe-core as well.
    violations = [v for v in axe_violations(app, axe_source) if not is_allowed(v)]
    assert not violations, (
        f"{screen.heading} ({role.value}) with its tables and expanders open:\n" + "\n".join(map(str, violations))
    )
    app.assert_healthy()
