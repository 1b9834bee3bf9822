"""Closed vocabularies of the ASI M&E domain, defined once.

Every enum here is used by the data contract, the ingest checks, the SQL filters
and the labels on screen. Values are stable machine codes; `label()` gives the
words a person reads.
"""

from __future__ import annotations

import csv
from enum import StrEnum
from functools import cache
from pathlib import Path

_REFERENCE = Path(__file__).resolve().parent.parent / "reference"


class Role(StrEnum):
    PUBLIC = "public"
    MEMBER = "member"
    SECRETARIAT = "secretariat"


class MembershipClass(StrEnum):
    PRODUCTION_TRANSFORMATION = "production_transformation"
    INDUSTRIAL_USERS = "industrial_users"
    DOWNSTREAM_SUPPORTERS = "downstream_supporters"
    CIVIL_SOCIETY = "civil_society"
    ASSOCIATIONS = "associations"
    GENERAL_SUPPORTERS = "general_supporters"


class Activity(StrEnum):
    """Supply-chain activities a facility (certified entity) carries out."""

    BAUXITE_MINING = "bauxite_mining"
    ALUMINA_REFINING = "alumina_refining"
    PRIMARY_PRODUCTION = "primary_production"
    CASTHOUSE = "casthouse"
    REMELTING_REFINING = "remelting_refining"
    SEMI_FABRICATION = "semi_fabrication"
    MATERIAL_CONVERSION = "material_conversion"
    OTHER_MANUFACTURING = "other_manufacturing"
    SALE_OF_PRODUCTS = "sale_of_products"


class Standard(StrEnum):
    PS = "PS"
    COC = "CoC"


class StandardVersion(StrEnum):
    PS_2014 = "PS-2014"
    PS_2017 = "PS-2017"
    PS_2022 = "PS-2022"
    COC_2017 = "CoC-2017"
    COC_2022 = "CoC-2022"


class CertificationType(StrEnum):
    PROVISIONAL = "provisional"
    FULL = "full"


class CertificationStatus(StrEnum):
    """Status of a certification on a given date (see `certificates_as_of`)."""

    CERTIFIED = "certified"
    PROVISIONAL = "provisional"
    SUSPENDED = "suspended"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class AuditType(StrEnum):
    INITIAL = "initial"
    SURVEILLANCE = "surveillance"
    RECERTIFICATION = "recertification"
    SCOPE_CHANGE = "scope_change"


class FindingRating(StrEnum):
    CONFORMANCE = "conformance"
    MINOR_NC = "minor_nc"
    MAJOR_NC = "major_nc"
    NOT_APPLICABLE = "not_applicable"


class CocStage(StrEnum):
    """Stages of the CoC material flow, upstream first; recycling is a source."""

    BAUXITE_MINING = "bauxite_mining"
    ALUMINA_REFINING = "alumina_refining"
    PRIMARY_PRODUCTION = "primary_production"
    SEMI_FABRICATION = "semi_fabrication"
    MATERIAL_CONVERSION = "material_conversion"
    RECYCLING = "recycling"


class CocMaterial(StrEnum):
    ASI_BAUXITE = "asi_bauxite"
    ASI_ALUMINA = "asi_alumina"
    ASI_ALUMINIUM = "asi_aluminium"
    ELIGIBLE_SCRAP = "eligible_scrap"


class IndicatorLevel(StrEnum):
    """1 members/certification data, 2 case studies/surveys/collaborations, 3 evaluations."""

    L1 = "1"
    L2 = "2"
    L3 = "3"


class Frequency(StrEnum):
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    ANNUAL = "annual"
    AD_HOC = "ad_hoc"


class Direction(StrEnum):
    """Which way is good for an indicator."""

    INCREASE = "increase"
    DECREASE = "decrease"
    MAINTAIN = "maintain"


class ObservationStatus(StrEnum):
    PROVISIONAL = "provisional"
    FINAL = "final"


class Dimension(StrEnum):
    """Disaggregation keys of indicator observations."""

    TOTAL = "total"
    REGION = "region"
    MEMBERSHIP_CLASS = "membership_class"
    ACTIVITY = "activity"
    STANDARD = "standard"
    PRINCIPLE = "principle"
    GENDER = "gender"
    COUNTRY = "country"  # ISO 3166-1 alpha-2 code as dimension_value


class TocNodeType(StrEnum):
    STRATEGY = "strategy"
    OUTPUT = "output"
    SHORT_TERM_OUTCOME = "short_term_outcome"
    MEDIUM_TERM_OUTCOME = "medium_term_outcome"
    LONG_TERM_IMPACT = "long_term_impact"


class ImpactArea(StrEnum):
    STANDARDS = "standards"
    UPTAKE = "uptake"
    REPUTATION = "reputation"


class TrainingAudience(StrEnum):
    AUDITOR = "auditor"
    MEMBER = "member"
    STAKEHOLDER = "stakeholder"


class GovernanceBody(StrEnum):
    BOARD = "board"
    STANDARDS_COMMITTEE = "standards_committee"
    IPAF = "ipaf"


class EvidenceKind(StrEnum):
    EVALUATION = "evaluation"
    STORY_OF_CHANGE = "story_of_change"


class EvaluationStatus(StrEnum):
    PLANNED = "planned"
    ONGOING = "ongoing"
    COMPLETED = "completed"


class FindingBearing(StrEnum):
    """What an evaluation's finding says about the Theory-of-Change outcome or indicator it names."""

    CONFIRMS = "confirms"
    QUESTIONS = "questions"


class AssumptionStatus(StrEnum):
    """Where the evidence leaves an assumption of the Theory of Change."""

    HOLDS = "holds"
    QUESTIONED = "questioned"
    UNTESTED = "untested"


class RiskCategory(StrEnum):
    """Categories of ASI's Risk Assessment and Management Plan."""

    GOVERNANCE = "governance"
    ASSURANCE_INTEGRITY = "assurance_integrity"
    FINANCE = "finance"
    REPUTATION = "reputation"
    DATA_AND_IT = "data_and_it"
    ANTITRUST_COMPLIANCE = "antitrust_compliance"
    OPERATIONS = "operations"


class RiskSeverity(StrEnum):
    """A risk's severity, banded from likelihood x consequence (see `severity_of`)."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    EXTREME = "extreme"


# Severity bands of the 5x5 matrix: the lowest rating (likelihood x consequence, 1-25) of
# each band. 1-4 low, 5-9 medium, 10-16 high, 20-25 extreme (no product falls in 17-19).
SEVERITY_BANDS: tuple[tuple[int, RiskSeverity], ...] = (
    (20, RiskSeverity.EXTREME),
    (10, RiskSeverity.HIGH),
    (5, RiskSeverity.MEDIUM),
    (1, RiskSeverity.LOW),
)


def severity_of(likelihood: int, consequence: int) -> RiskSeverity:
    """The severity band of a rating: likelihood (1-5) x consequence (1-5) against SEVERITY_BANDS."""
    rating = int(likelihood) * int(consequence)
    for lowest, severity in SEVERITY_BANDS:
        if rating >= lowest:
            return severity
    raise ValueError(f"likelihood {likelihood} x consequence {consequence} is below 1")


class Region(StrEnum):
    AFRICA = "Africa"
    ASIA = "Asia"
    EUROPE = "Europe"
    LATIN_AMERICA = "Latin America & Caribbean"
    MIDDLE_EAST = "Middle East"
    NORTH_AMERICA = "North America"
    OCEANIA = "Oceania"


PS_PRINCIPLES: dict[int, str] = {
    1: "Business integrity",
    2: "Policy & management",
    3: "Transparency",
    4: "Material stewardship",
    5: "GHG emissions",
    6: "Emissions, effluents & wastes",
    7: "Water",
    8: "Biodiversity",
    9: "Human rights",
    10: "Labour rights",
    11: "Occupational health & safety",
}

STANDARD_OF_VERSION: dict[StandardVersion, Standard] = {
    StandardVersion.PS_2014: Standard.PS,
    StandardVersion.PS_2017: Standard.PS,
    StandardVersion.PS_2022: Standard.PS,
    StandardVersion.COC_2017: Standard.COC,
    StandardVersion.COC_2022: Standard.COC,
}

# The stage each CoC stage passes its output on to, and what it produces.
COC_STAGE_OUTPUT: dict[CocStage, CocMaterial] = {
    CocStage.BAUXITE_MINING: CocMaterial.ASI_BAUXITE,
    CocStage.ALUMINA_REFINING: CocMaterial.ASI_ALUMINA,
    CocStage.PRIMARY_PRODUCTION: CocMaterial.ASI_ALUMINIUM,
    CocStage.SEMI_FABRICATION: CocMaterial.ASI_ALUMINIUM,
    CocStage.MATERIAL_CONVERSION: CocMaterial.ASI_ALUMINIUM,
    CocStage.RECYCLING: CocMaterial.ELIGIBLE_SCRAP,
}

# (stage, input material) -> the upstream stage the input comes from. A pair not
# listed here is not a valid CoC report line. Originating stages take their own
# output material as input (ore mined, scrap collected) and have no upstream.
COC_INPUT_SOURCE: dict[tuple[CocStage, CocMaterial], CocStage | None] = {
    (CocStage.BAUXITE_MINING, CocMaterial.ASI_BAUXITE): None,
    (CocStage.RECYCLING, CocMaterial.ELIGIBLE_SCRAP): None,
    (CocStage.ALUMINA_REFINING, CocMaterial.ASI_BAUXITE): CocStage.BAUXITE_MINING,
    (CocStage.PRIMARY_PRODUCTION, CocMaterial.ASI_ALUMINA): CocStage.ALUMINA_REFINING,
    (CocStage.PRIMARY_PRODUCTION, CocMaterial.ELIGIBLE_SCRAP): CocStage.RECYCLING,
    (CocStage.SEMI_FABRICATION, CocMaterial.ASI_ALUMINIUM): CocStage.PRIMARY_PRODUCTION,
    (CocStage.SEMI_FABRICATION, CocMaterial.ELIGIBLE_SCRAP): CocStage.RECYCLING,
    (CocStage.MATERIAL_CONVERSION, CocMaterial.ASI_ALUMINIUM): CocStage.SEMI_FABRICATION,
}

# Tonnes of stage output that one tonne of input can yield at most. The mass-balance
# rule is: output_t <= input_t * factor + carried_forward_t.
COC_YIELD_FACTOR: dict[tuple[CocStage, CocMaterial], float] = {
    (CocStage.BAUXITE_MINING, CocMaterial.ASI_BAUXITE): 1.0,
    (CocStage.RECYCLING, CocMaterial.ELIGIBLE_SCRAP): 1.0,
    (CocStage.ALUMINA_REFINING, CocMaterial.ASI_BAUXITE): 0.5,
    (CocStage.PRIMARY_PRODUCTION, CocMaterial.ASI_ALUMINA): 0.53,
    (CocStage.PRIMARY_PRODUCTION, CocMaterial.ELIGIBLE_SCRAP): 1.0,
    (CocStage.SEMI_FABRICATION, CocMaterial.ASI_ALUMINIUM): 1.0,
    (CocStage.SEMI_FABRICATION, CocMaterial.ELIGIBLE_SCRAP): 1.0,
    (CocStage.MATERIAL_CONVERSION, CocMaterial.ASI_ALUMINIUM): 1.0,
}

# Which standard versions break comparability of a series, and when they took effect.
VERSION_EFFECTIVE_ON: dict[StandardVersion, str] = {
    StandardVersion.PS_2014: "2014-12-01",
    StandardVersion.PS_2017: "2017-12-01",
    StandardVersion.PS_2022: "2022-05-01",
    StandardVersion.COC_2017: "2017-12-01",
    StandardVersion.COC_2022: "2022-05-01",
}

_LABELS: dict[str, str] = {
    "production_transformation": "Production and Transformation",
    "industrial_users": "Industrial Users",
    "downstream_supporters": "Downstream Supporters",
    "civil_society": "Civil Society",
    "associations": "Associations",
    "general_supporters": "General Supporters",
    "bauxite_mining": "Bauxite mining",
    "alumina_refining": "Alumina refining",
    "primary_production": "Primary aluminium production",
    "casthouse": "Casthouse",
    "remelting_refining": "Re-melting / refining (recycling)",
    "semi_fabrication": "Semi-fabrication",
    "material_conversion": "Material conversion",
    "other_manufacturing": "Other manufacturing",
    "sale_of_products": "Sale of products (industrial users)",
    "recycling": "Recycling / eligible scrap",
    "asi_bauxite": "ASI Bauxite",
    "asi_alumina": "ASI Alumina",
    "asi_aluminium": "ASI Aluminium",
    "eligible_scrap": "Eligible Scrap",
    "PS": "Performance Standard",
    "CoC": "Chain of Custody Standard",
    "PS-2014": "PS V1 (2014)",
    "PS-2017": "PS V2 (2017)",
    "PS-2022": "PS V3 (2022)",
    "CoC-2017": "CoC V1 (2017)",
    "CoC-2022": "CoC V2 (2022)",
    "minor_nc": "Minor non-conformance",
    "major_nc": "Major non-conformance",
    "not_applicable": "Not applicable",
    "scope_change": "Scope change",
    "short_term_outcome": "Short-term outcome",
    "medium_term_outcome": "Medium-term outcome",
    "long_term_impact": "Long-term impact",
    "standards_committee": "Standards Committee",
    "ipaf": "IPAF",
    "story_of_change": "Story of Change",
    "confirms": "Confirms",
    "questions": "Questions",
    "holds": "Holds so far",
    "questioned": "Questioned",
    "untested": "Not yet tested",
    "ad_hoc": "Ad hoc",
    "membership_class": "Membership class",
    "public": "Public",
    "member": "Member",
    "secretariat": "Secretariat",
    "assurance_integrity": "Assurance integrity",
    "data_and_it": "Data and IT",
    "antitrust_compliance": "Antitrust compliance",
}


# Stage names of the CoC value chain as ASI names them; a stage shares its code with an
# activity ("primary_production") but not its name, so every stage name comes from here.
STAGE_LABELS: dict[CocStage, str] = {
    CocStage.BAUXITE_MINING: "Bauxite mining",
    CocStage.ALUMINA_REFINING: "Alumina refining",
    CocStage.PRIMARY_PRODUCTION: "Primary production / casthouse",
    CocStage.SEMI_FABRICATION: "Semi-fabrication",
    CocStage.MATERIAL_CONVERSION: "Material conversion / manufacturing",
    CocStage.RECYCLING: "Recycling / eligible scrap",
}


def stage_label(stage: object) -> str:
    """The name of a CoC stage; anything else gets its vocabulary label."""
    text = str(stage.value if hasattr(stage, "value") else stage)
    return STAGE_LABELS.get(CocStage(text), text) if text in CocStage._value2member_map_ else label(text)


def label(code: object) -> str:
    """Human words for a vocabulary code; unknown codes are title-cased."""
    text = str(code.value if hasattr(code, "value") else code)
    return _LABELS.get(text, text.replace("_", " ").capitalize())


@cache
def countries() -> dict[str, tuple[str, str]]:
    """ISO 3166-1 alpha-2 code -> (name, region)."""
    with (_REFERENCE / "countries.csv").open(newline="", encoding="utf-8") as fh:
        return {row["country"]: (row["country_name"], row["region"]) for row in csv.DictReader(fh)}


def country_name(code: str) -> str:
    return countries().get(code, (code, ""))[0]


def region_of(code: str) -> str | None:
    entry = countries().get(code)
    return entry[1] if entry else None


class DatePrecision(StrEnum):
    """How much of a date an export states: an empty precision means the exact day."""

    MONTH = "month"
    YEAR = "year"


# Words people write for a code besides the code itself and its label (matched like
# labels: case, spaces, hyphens and underscores ignored).
ALIASES: dict[str, dict[str, str]] = {
    "Activity": {
        "smelting": "primary_production",
        "smelter": "primary_production",
        "primary aluminium": "primary_production",
        "primary aluminum production": "primary_production",
        "aluminium smelting": "primary_production",
        "recycling": "remelting_refining",
        "remelting": "remelting_refining",
        "refining recycling": "remelting_refining",
        "rolling": "semi_fabrication",
        "extrusion": "semi_fabrication",
        "foil": "semi_fabrication",
        "manufacturing": "other_manufacturing",
        "industrial user": "sale_of_products",
        "mining": "bauxite_mining",
        "refinery": "alumina_refining",
    },
    "Standard": {
        "performance": "PS",
        "chain of custody": "CoC",
        "coc standard": "CoC",
        "ps standard": "PS",
    },
    "StandardVersion": {
        "ps v1": "PS-2014", "ps v1 2014": "PS-2014", "ps 2014": "PS-2014",
        "ps v2": "PS-2017", "ps v2 2017": "PS-2017", "ps 2017": "PS-2017",
        "ps v3": "PS-2022", "ps v3 2022": "PS-2022", "ps 2022": "PS-2022",
        "coc v1": "CoC-2017", "coc v1 2017": "CoC-2017", "coc 2017": "CoC-2017",
        "coc v2": "CoC-2022", "coc v2 2022": "CoC-2022", "coc 2022": "CoC-2022",
    },
    "CertificationType": {"full certification": "full", "provisional certification": "provisional"},
    "AuditType": {"re certification": "recertification", "scope extension": "scope_change"},
    "FindingRating": {"minor": "minor_nc", "major": "major_nc", "n a": "not_applicable", "na": "not_applicable",
                      "conform": "conformance", "compliant": "conformance"},
    "MembershipClass": {"production transformation": "production_transformation",
                        "production and transformation": "production_transformation",
                        "industrial user": "industrial_users", "downstream supporter": "downstream_supporters",
                        "association": "associations", "general supporter": "general_supporters",
                        "civil society organisation": "civil_society"},
    "TrainingAudience": {"auditors": "auditor", "members": "member", "stakeholders": "stakeholder",
                         "member company": "member"},
    "GovernanceBody": {"standards committee": "standards_committee", "board of directors": "board"},
}


def lookup_key(text: str) -> str:
    """A value as compared with codes and labels: lower case, runs of other characters as one space."""
    out = []
    space = False
    for char in text.lower():
        if char.isalnum():
            if space and out:
                out.append(" ")
            out.append(char)
            space = False
        else:
            space = True
    return "".join(out)


@cache
def code_lookup(enum: type[StrEnum]) -> dict[str, str]:
    """Every accepted spelling of an enum's codes (code, label, alias), keyed by `lookup_key`."""
    table: dict[str, str] = {}
    for alias, code in ALIASES.get(enum.__name__, {}).items():
        table[lookup_key(alias)] = code
    for member in enum:
        table.setdefault(lookup_key(label(member.value)), member.value)
    for member in enum:  # a code always means itself, whatever an alias says
        table[lookup_key(member.value)] = member.value
    return table


# Names people write that ISO's lists spell otherwise (pycountry knows the ISO names).
COUNTRY_ALIASES: dict[str, str] = {
    "uk": "GB", "great britain": "GB", "england": "GB", "scotland": "GB", "wales": "GB",
    "usa": "US", "u s a": "US", "u s": "US", "america": "US", "united states of america": "US",
    "russia": "RU", "south korea": "KR", "korea": "KR", "north korea": "KP", "vietnam": "VN", "iran": "IR",
    "syria": "SY", "laos": "LA", "bolivia": "BO", "venezuela": "VE", "tanzania": "TZ", "moldova": "MD",
    "czech republic": "CZ", "ivory coast": "CI", "cote d ivoire": "CI", "turkey": "TR", "the netherlands": "NL",
    "holland": "NL", "uae": "AE", "taiwan": "TW", "brunei": "BN", "macedonia": "MK", "swaziland": "SZ",
}


@cache
def country_lookup() -> dict[str, str]:
    """Every accepted spelling of a country (alpha-2, alpha-3, ISO names) -> alpha-2, keyed by `lookup_key`."""
    import pycountry  # noqa: PLC0415 - loaded only when an ingest reads countries

    known = countries()
    table: dict[str, str] = {}
    for country in pycountry.countries:
        code = country.alpha_2
        if code not in known:
            continue
        for attr in ("name", "official_name", "common_name", "alpha_3"):
            value = getattr(country, attr, None)
            if value:
                table[lookup_key(value)] = code
    for code, (name, _) in known.items():
        table[lookup_key(name)] = code
    for alias, code in COUNTRY_ALIASES.items():
        table.setdefault(lookup_key(alias), code)
    for code in known:
        table[lookup_key(code)] = code
    return table


def suggestions(value: str, choices: dict[str, str], limit: int = 3) -> list[str]:
    """The allowed values nearest to `value` (keys of `choices` are lookup keys, values what to write)."""
    from rapidfuzz import fuzz, process  # noqa: PLC0415

    key = lookup_key(value)
    if not key:
        return []
    found = process.extract(key, list(choices), scorer=fuzz.WRatio, limit=limit * 3, score_cutoff=70)
    out: list[str] = []
    for match, _, _ in found:
        target = choices[match]
        if target not in out:
            out.append(target)
        if len(out) == limit:
            break
    return out
