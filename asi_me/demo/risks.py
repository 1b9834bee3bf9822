"""The demo risk register: a fictitious Risk Assessment and Management Plan, revised yearly.

Twenty risks across the plan's categories, each rated at two to four of the plan's revisions
so that the matrix and the rating history have something to show. Owners are roles, never
people. Deterministic: no random numbers.
"""

from __future__ import annotations

from datetime import date

from asi_me.data.vocab import RiskCategory, severity_of

# The plan's revisions and the dates the Board adopted them.
PLAN_REVISIONS: dict[int, date] = {
    1: date(2023, 3, 14),
    2: date(2024, 3, 12),
    3: date(2025, 3, 18),
    4: date(2026, 3, 17),
}

# Months until the next review, by severity: the worse a risk, the sooner it is looked at again.
_REVIEW_MONTHS = {"extreme": 3, "high": 6, "medium": 12, "low": 12}

C = RiskCategory
# (risk_id, category, title, description, controls, owner, first plan revision, ratings per revision
#  as (likelihood, consequence), is_public)
_RISKS: tuple[tuple[str, RiskCategory, str, str, str, str, int, tuple[tuple[int, int], ...], bool], ...] = (
    ("R-01", C.GOVERNANCE, "Board capacity",
     "Board seats stay vacant or members lack time, so decisions on standards and budget are delayed.",
     "Nominations calendar; alternates for each membership class; annual Board skills review.",
     "Chair of the Board", 1, ((3, 3), (3, 3), (2, 3), (2, 3)), False),
    ("R-02", C.GOVERNANCE, "Conflicts of interest in standard setting",
     "Standards Committee decisions are seen to favour the members who sit on it.",
     "Declarations of interest at every meeting; balanced chambers; public consultation on each revision.",
     "Director of Standards", 1, ((2, 4), (2, 4), (2, 4), (2, 3)), True),
    ("R-03", C.GOVERNANCE, "Membership concentration",
     "A few large Production and Transformation members carry most fees and could shape priorities.",
     "Fee structure reviewed every two years; civil society chamber has equal votes.",
     "Executive Director", 2, ((3, 3), (3, 3), (3, 2)), False),
    ("R-04", C.ASSURANCE_INTEGRITY, "Auditor competence",
     "Accredited auditors misjudge conformance with criteria they rarely audit.",
     "Auditor training and exams on educationAl; witness audits; calibration sessions.",
     "Director of Assurance", 1, ((4, 4), (3, 4), (3, 4), (2, 4)), True),
    ("R-05", C.ASSURANCE_INTEGRITY, "Certificates issued on weak evidence",
     "A certification is granted where an audit report lacks objective evidence for key criteria.",
     "Secretariat review of every audit report before issue; sample re-audits.",
     "Director of Assurance", 1, ((3, 5), (3, 5), (2, 5), (2, 5)), False),
    ("R-06", C.ASSURANCE_INTEGRITY, "Chain-of-custody material claims",
     "CoC material is over-claimed because outputs exceed inputs plus carried-forward balance.",
     "Mass-balance checks on every annual material report; follow-up audits on failures.",
     "Head of Chain of Custody", 2, ((4, 4), (3, 4), (3, 3)), False),
    ("R-07", C.ASSURANCE_INTEGRITY, "Complaints not resolved in time",
     "Complaints about certified entities are not investigated within the mechanism's deadlines.",
     "Complaints register with due dates; independent reviewer for appeals.",
     "Complaints Manager", 3, ((3, 3), (4, 3)), True),
    ("R-08", C.FINANCE, "Membership fee income",
     "Growth in members slows, so fee income falls short of the budget.",
     "Quarterly forecast; reserve of six months' costs; diversified grant income.",
     "Finance Director", 1, ((3, 4), (2, 4), (2, 3), (3, 3)), False),
    ("R-09", C.FINANCE, "Grant dependency",
     "Programme work depends on a few time-limited grants.",
     "Pipeline of applications; core costs met from fees only.",
     "Finance Director", 2, ((3, 3), (3, 3), (2, 3)), False),
    ("R-10", C.FINANCE, "Currency exposure",
     "Income in one currency and costs in others move apart.",
     "Natural hedging by holding reserves in the main cost currencies.",
     "Finance Director", 1, ((3, 2), (3, 2), (2, 2), (2, 2)), False),
    ("R-11", C.REPUTATION, "Certified site incident",
     "A serious environmental or human-rights incident at a certified site questions the value of certification.",
     "Incident protocol; suspension procedure; stakeholder communication plan.",
     "Director of Communications", 1, ((3, 5), (3, 5), (3, 5), (4, 5)), True),
    ("R-12", C.REPUTATION, "Claims misuse",
     "Members use the ASI logo or certification claims beyond the scope of their certificates.",
     "Claims guide; claims approval; monitoring of public statements.",
     "Director of Communications", 2, ((4, 3), (3, 3), (3, 2)), True),
    ("R-13", C.REPUTATION, "Greenwashing criticism",
     "Civil society sees the GHG criteria as too weak for a credible low-carbon claim.",
     "Standards revision on GHG thresholds; published emissions data against the 8 t CO2e/t Al threshold.",
     "Director of Standards", 3, ((4, 4), (3, 4)), False),
    ("R-14", C.DATA_AND_IT, "Assurance platform outage",
     "The elementAl platform is unavailable during audit or reporting peaks.",
     "Hosting with a service-level agreement; daily backups; tested restore.",
     "Head of Systems", 1, ((3, 3), (2, 3), (2, 3), (2, 2)), False),
    ("R-15", C.DATA_AND_IT, "Personal data breach",
     "Personal data of trainees or auditors is exposed.",
     "Pseudonymous training records; access reviews; data protection training for staff.",
     "Data Protection Officer", 1, ((2, 4), (3, 4), (3, 4), (3, 4)), False),
    ("R-16", C.DATA_AND_IT, "Data quality of member reports",
     "Late or inconsistent member reports make published indicators unreliable.",
     "Validation at ingest; late-report follow-up; data-quality flags on the Data screen.",
     "Monitoring and Evaluation Manager", 2, ((4, 3), (3, 3), (3, 3)), False),
    ("R-17", C.ANTITRUST_COMPLIANCE, "Disclosure of company volumes",
     "A published aggregate reveals one company's CoC volumes to a competitor.",
     "Disclosure policy in the query layer (at least 5 reporters, no dominant company, complementary "
     "suppression); legal review of new publications.",
     "General Counsel", 1, ((3, 5), (2, 5), (1, 5), (1, 5)), True),
    ("R-18", C.ANTITRUST_COMPLIANCE, "Competitor discussions at meetings",
     "Members discuss prices or market shares at ASI meetings.",
     "Antitrust statement read at every meeting; minutes reviewed by counsel.",
     "General Counsel", 1, ((2, 5), (2, 5), (2, 4)), False),
    ("R-19", C.OPERATIONS, "Key staff turnover",
     "The loss of specialist staff delays assurance and standards work.",
     "Documented procedures; cross-training; succession plan for each director.",
     "Executive Director", 2, ((4, 3), (4, 3), (3, 3)), False),
    ("R-20", C.OPERATIONS, "Auditor capacity in new regions",
     "Too few accredited auditors operate where new members' sites are.",
     "Recruitment of firms in under-served regions; remote audit guidance.",
     "Director of Assurance", 3, ((4, 3), (3, 3)), False),
)


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return day.replace(year=day.year + month // 12, month=month % 12 + 1)


def risk_rows() -> list[dict]:
    """Every revision of every demo risk, in (risk_id, revision) order."""
    rows: list[dict] = []
    for risk_id, category, title, description, controls, owner, first, ratings, is_public in _RISKS:
        for offset, (likelihood, consequence) in enumerate(ratings):
            revision = first + offset
            revised_on = PLAN_REVISIONS[revision]
            severity = severity_of(likelihood, consequence).value
            rows.append({
                "risk_id": risk_id, "revision": revision, "revised_on": revised_on, "category": category.value,
                "title": title, "description": description, "likelihood": likelihood, "consequence": consequence,
                "severity": severity, "controls": controls, "owner": owner,
                "review_on": _add_months(revised_on, _REVIEW_MONTHS[severity]), "is_public": is_public,
            })
    return rows


__all__ = ["PLAN_REVISIONS", "risk_rows"]
