"""Accessibility, checked by a tool and by keyboard.

axe-core (pinned in tests/browser/package.json, installed by scripts/test) runs on every
screen each role can open, at a desktop (1400×900) and a phone (390×844) width, with
the WCAG 2.0/2.1 A and AA rules. Any serious or critical violation fails, unless it comes
from Streamlit's own markup and is listed in ALLOWED with its selector and the reason.

A keyboard user must reach every control a screen draws by Tab alone, and open each
chart's table view from the keyboard.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from asi_me.data.snapshot import current_folder, read_table
from asi_me.data.vocab import Role

if TYPE_CHECKING:  # fixtures come from conftest.py; these names are for reading only
    from conftest import AppPage, StreamlitServer

pytestmark = pytest.mark.browser

AXE_JS = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
FAILING_IMPACTS = frozenset({"serious", "critical"})

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
            if impact in FAILING_IMPACTS:
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
    role: Role,
    width: str,
) -> None:
    app = new_app_page(demo_server, *WIDTHS[width])
    report: list[str] = []
    for screen in (s for s in SCREENS if role in s.roles):
        app.open(demo_server.page_url(screen.url_path, **_role_params(role, demo_member_id)), heading=screen.heading)
        app.assert_healthy()
        wait_for_charts(app)
        violations = [v for v in axe_violations(app, axe_source) if not is_allowed(v)]
        if violations:
            report.append(f"{screen.heading} ({role.value}, {width}):\n" + "\n".join(map(str, violations)))
    assert not report, "axe-core found serious or critical violations:\n" + "\n".join(report)
