"""The data contract: one pydantic model per table, plus keys and references.

The models are the single source of truth for column names, types, vocabularies,
ranges and nullability. Ingest derives its vectorised checks from them, the store
derives its views from `TABLES`, and `docs/data-dictionary.md` is generated here.
List columns (e.g. `activities`) are written in CSV/XLSX exports as values joined
by ";".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from asi_me.data.vocab import (
    Activity,
    AssumptionStatus,
    AuditType,
    CertificationStatus,
    CertificationType,
    CocMaterial,
    CocStage,
    DatePrecision,
    Dimension,
    Direction,
    EvaluationStatus,
    EvidenceKind,
    FindingBearing,
    FindingRating,
    Frequency,
    GovernanceBody,
    ImpactArea,
    IndicatorLevel,
    MembershipClass,
    ObservationStatus,
    RiskCategory,
    RiskSeverity,
    Standard,
    StandardVersion,
    TocNodeType,
    TrainingAudience,
)

Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000)]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$"), Field(json_schema_extra={"iso3166": True})]
Tonnes = Annotated[float, Field(ge=0, le=1e10)]
Year = Annotated[int, Field(ge=2015, le=2100)]


class _Row(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_enum_values=True)


class Member(_Row):
    """An ASI member company (CRM export)."""

    member_id: Id = Field(description="Stable member identifier from the CRM.")
    name: Text = Field(description="Company or organisation name.")
    membership_class: MembershipClass = Field(description="ASI membership class.")
    country: CountryCode = Field(description="Headquarters country, ISO 3166-1 alpha-2.")
    joined_on: date = Field(description="Date membership began.")
    left_on: date | None = Field(None, description="Date membership ended; empty while a member.")
    joined_on_precision: DatePrecision | None = Field(
        None, description="month or year where the export states only that much of joined_on (then the first "
        "day of the period is stored); empty for an exact date."
    )


class Facility(_Row):
    """A facility / certified entity operated by a member (elementAl)."""

    facility_id: Id = Field(description="Stable facility (certified entity) identifier.")
    member_id: Id = Field(description="The member company that operates it.")
    name: Text = Field(description="Facility name.")
    country: CountryCode = Field(description="Country where it operates, ISO 3166-1 alpha-2.")
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = Field(None, description="WGS84 latitude; may be missing.")
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = Field(
        None, description="WGS84 longitude; may be missing."
    )
    activities: list[Activity] = Field(min_length=1, description="Supply-chain activities carried out.")
    workers: Annotated[int, Field(ge=0, le=1_000_000)] | None = Field(
        None, description="People working at the facility; empty where an export does not report it (the "
        "workers tile and the certification detail count it as not reported)."
    )


class Certification(_Row):
    """A PS or CoC certification of one facility (elementAl)."""

    certification_id: Id = Field(description="Certificate number.")
    facility_id: Id = Field(description="The certified facility.")
    standard: Standard = Field(description="PS (Performance Standard) or CoC (Chain of Custody).")
    standard_version: StandardVersion = Field(description="Standard version audited against.")
    certification_type: CertificationType = Field(
        description="provisional (a major NC was found; one year) or full (three years)."
    )
    status: CertificationStatus = Field(
        description="Status in the export; suspended/withdrawn take effect on status_changed_on."
    )
    issued_on: date = Field(description="Date the certificate was issued.")
    expires_on: date = Field(description="Date the certificate expires.")
    status_changed_on: date | None = Field(None, description="Date of suspension or withdrawal, if any.")
    scope: Text = Field(description="Scope statement of the certification.")
    auditing_firm_id: Id = Field(description="Accredited auditing firm that audited it.")
    external_certifications: list[Text] = Field(
        default_factory=list, description="External certifications leveraged (e.g. ISO 14001)."
    )
    issued_on_precision: DatePrecision | None = Field(
        None, description="month or year where the export states only that much of issued_on (then the first "
        "day of the period is stored); empty for an exact date."
    )
    derived_columns: list[Id] | None = Field(
        None,
        description="Columns ingest derived rather than read: expires_on (issued_on plus one year for a provisional, "
        "three for a full certificate), certification_type (from the span of the dates), certification_id (made "
        "by a source profile from the row's facts).",
    )


class Audit(_Row):
    """One audit of a certification (elementAl)."""

    audit_id: Id = Field(description="Audit identifier.")
    certification_id: Id = Field(description="The certification audited.")
    audit_type: AuditType = Field(description="initial, surveillance, recertification or scope_change.")
    audited_on: date = Field(description="Last day of the audit.")
    auditing_firm_id: Id = Field(description="Firm that carried it out.")


class AuditFinding(_Row):
    """A finding against one PS criterion in one audit (elementAl)."""

    audit_id: Id = Field(description="The audit.")
    principle: Annotated[int, Field(ge=1, le=11)] = Field(description="PS principle 1-11.")
    criterion: Annotated[str, StringConstraints(pattern=r"^\d{1,2}\.\d{1,2}[a-z]?$")] = Field(
        description="PS criterion, e.g. 5.1; its principle must match."
    )
    rating: FindingRating = Field(description="conformance, minor_nc, major_nc or not_applicable.")
    is_closed_at_next_audit: bool | None = Field(
        None, description="For a non-conformance: closed (or downgraded) at the next audit; empty if not yet known."
    )


class CocReport(_Row):
    """One line of an annual CoC material report: an entity's stage and input material."""

    facility_id: Id = Field(description="The CoC certified entity reporting.")
    reporting_year: Year = Field(description="Calendar year reported.")
    stage: CocStage = Field(description="Value-chain stage of this line.")
    material: CocMaterial = Field(description="Input material of this line; must be valid for the stage.")
    input_t: Tonnes = Field(description="CoC material received (or mined / collected at an originating stage), t.")
    output_t: Tonnes = Field(description="CoC material output from this input, in tonnes of the stage's product.")
    carried_forward_t: Tonnes = Field(description="Opening balance carried forward from the previous year, t.")
    submitted_on: date = Field(description="Date the report was submitted.")
    due_on: date = Field(description="Date the report was due.")


class Indicator(_Row):
    """An M&E indicator from the M&E Plan."""

    indicator_code: Id = Field(description="Indicator code, e.g. ST-03.")
    name: Text = Field(description="Short name.")
    definition: Text = Field(description="Plain-language definition.")
    unit: Text = Field(description="Unit of the value, e.g. count, %, t CO2e/t Al.")
    level: IndicatorLevel = Field(description="1 member/certification data, 2 surveys/case studies, 3 evaluations.")
    data_source: Text = Field(description="Where the data comes from.")
    frequency: Frequency = Field(description="How often it is measured.")
    is_iseal_cci: bool = Field(description="Overlaps an ISEAL Common Core Indicator.")
    iseal_cci_area: str | None = Field(None, description="The ISEAL CCI area, where flagged.")
    direction: Direction = Field(description="Which way is good.")
    baseline_value: float | None = Field(None, description="Baseline value.")
    baseline_on: date | None = Field(None, description="Date of the baseline.")
    target_value: float | None = Field(None, description="Target value.")
    target_on: date | None = Field(None, description="Date the target should be met.")
    toc_node_id: Id = Field(description="Theory-of-change node the indicator measures.")


class IndicatorObservation(_Row):
    """One value of an indicator for a period and a disaggregation."""

    indicator_code: Id = Field(description="The indicator.")
    period_on: date = Field(description="First day of the period measured.")
    dimension: Dimension = Field(description="Disaggregation key; 'total' for the headline value.")
    dimension_value: Annotated[str, StringConstraints(min_length=1, max_length=100)] = Field(
        description="Value of the key, e.g. a region; 'all' for the total."
    )
    value: Annotated[float, Field(ge=-1e12, le=1e12)] = Field(description="Observed value, in the indicator's unit.")
    status: ObservationStatus = Field(description="provisional or final.")


class TocNode(_Row):
    """A box of the Theory of Change."""

    node_id: Id = Field(description="Node identifier.")
    label: Text = Field(description="Text of the box.")
    node_type: TocNodeType = Field(description="strategy, output, short/medium-term outcome or long-term impact.")
    impact_area: ImpactArea | None = Field(None, description="Standards, Uptake or Reputation, where it applies.")
    description: str | None = Field(None, description="Longer explanation.")


class TocEdge(_Row):
    """A causal link between two Theory-of-Change nodes."""

    source_node_id: Id = Field(description="Upstream node.")
    target_node_id: Id = Field(description="Downstream node.")


class TrainingRecord(_Row):
    """One person completing one educationAl course."""

    record_id: Id = Field(description="Completion record identifier.")
    person_ref: Id = Field(description="Pseudonymous person reference.")
    audience: TrainingAudience = Field(description="auditor, member or stakeholder.")
    course: Text = Field(description="Course name.")
    completed_on: date = Field(description="Completion date.")
    country: CountryCode | None = Field(None, description="Participant's country, where known.")
    completed_on_precision: DatePrecision | None = Field(
        None, description="month or year where the export states only that much of completed_on; empty for an "
        "exact date."
    )


class GovernanceMeeting(_Row):
    """A Board, Standards Committee or IPAF meeting."""

    meeting_id: Id = Field(description="Meeting identifier.")
    body: GovernanceBody = Field(description="board, standards_committee or ipaf.")
    held_on: date = Field(description="Date held.")
    location: str | None = Field(None, description="Place, or 'virtual'.")


class AuditingFirm(_Row):
    """An ASI accredited auditing firm."""

    auditing_firm_id: Id = Field(description="Firm identifier.")
    name: Text = Field(description="Firm name.")
    accredited_on: date = Field(description="Accreditation date.")
    accreditation_ended_on: date | None = Field(None, description="End of accreditation, if ended.")
    countries: list[CountryCode] = Field(min_length=1, description="Countries it operates in.")


class Evidence(_Row):
    """An outcome/impact evaluation or a Story of Change."""

    evidence_id: Id = Field(description="Identifier.")
    kind: EvidenceKind = Field(description="evaluation or story_of_change.")
    title: Text = Field(description="Title.")
    status: EvaluationStatus = Field(description="planned, ongoing or completed.")
    started_on: date | None = Field(None, description="Start date.")
    completed_on: date | None = Field(None, description="Completion or publication date.")
    author: str | None = Field(None, description="Evaluator or author.")
    summary: Text = Field(description="What it found or will examine.")
    url: str | None = Field(None, description="Where it is published.")
    toc_node_ids: list[Id] = Field(min_length=1, description="Theory-of-change nodes it evidences.")


class EvidenceFinding(_Row):
    """One finding of an evaluation or Story of Change, and the Theory-of-Change outcome (and
    indicator, where one measures it) that it confirms or questions."""

    evidence_id: Id = Field(description="The evaluation or Story of Change.")
    finding_no: Annotated[int, Field(ge=1, le=999)] = Field(description="Number of the finding within it.")
    finding: Text = Field(description="What it found, in a sentence or two.")
    toc_node_id: Id = Field(description="Theory-of-change node the finding bears on.")
    indicator_code: Id | None = Field(None, description="Indicator the finding bears on, where one measures it.")
    bearing: FindingBearing = Field(description="confirms or questions the node (and indicator).")


class TocAssumption(_Row):
    """An assumption the Theory of Change rests on, and where the evidence leaves it."""

    assumption_id: Id = Field(description="Assumption identifier.")
    toc_node_id: Id = Field(description="Theory-of-change node whose achievement depends on it.")
    assumption: Text = Field(description="The assumption, in plain language.")
    status: AssumptionStatus = Field(description="holds, questioned or untested, on the evidence so far.")
    evidence_id: Id | None = Field(None, description="The evaluation or Story of Change that tested it, if any.")


class GlobalTotal(_Row):
    """Global production by year and stage (IAI), for context."""

    year: Year = Field(description="Calendar year.")
    stage: CocStage = Field(description="Value-chain stage.")
    global_t: Annotated[float, Field(gt=0, le=1e11)] = Field(description="World production at this stage, t.")
    source: Text = Field(description="Publisher and table.")


class SmelterEmission(_Row):
    """Scope 1+2 GHG intensity of a smelter (CRU / members)."""

    facility_id: Id = Field(description="The smelter.")
    year: Year = Field(description="Calendar year.")
    ghg_intensity_t_per_t: Annotated[float, Field(ge=0, le=100)] = Field(
        description="Scope 1+2 emissions, t CO2e per t aluminium."
    )
    source: Text = Field(description="Where the figure comes from.")


Rating = Annotated[int, Field(ge=1, le=5)]


class Risk(_Row):
    """One revision of one risk of the Risk Assessment and Management Plan (secretariat only)."""

    risk_id: Id = Field(description="Stable risk identifier, e.g. R-07; the same across revisions.")
    revision: Annotated[int, Field(ge=1, le=999)] = Field(description="Revision number of the plan, from 1.")
    revised_on: date = Field(description="Date this revision was adopted.")
    category: RiskCategory = Field(description="Risk category.")
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)] = Field(description="Short name of the risk.")
    description: Text = Field(description="What could happen, and why it matters.")
    likelihood: Rating = Field(description="Likelihood, 1 (rare) to 5 (almost certain).")
    consequence: Rating = Field(description="Consequence, 1 (insignificant) to 5 (severe).")
    severity: RiskSeverity = Field(
        description="low, medium, high or extreme, banded from likelihood x consequence (1-4 low, 5-9 medium, "
        "10-16 high, 20-25 extreme); ingest derives it when the cell is empty."
    )
    controls: Text = Field(description="The controls in place or planned.")
    owner: Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=r"^[^@]+$")] = Field(
        description="The role or title accountable (e.g. Director of Assurance), never a person's e-mail."
    )
    review_on: date = Field(description="Date the risk is next due for review.")
    is_public: bool = Field(description="Marked for publication; only such risks may ever reach a non-secretariat "
                            "viewer.")


@dataclass(frozen=True)
class TableSpec:
    """How one table is keyed and referenced, besides its columns."""

    name: str
    model: type[_Row]
    title: str
    key: tuple[str, ...]
    references: dict[str, tuple[str, str]] = field(default_factory=dict)
    is_public: bool = False
    # Not even listed (name, rows) to a viewer other than the secretariat.
    is_secretariat_only: bool = False

    @property
    def columns(self) -> list[str]:
        return list(self.model.model_fields)


TABLES: dict[str, TableSpec] = {
    spec.name: spec
    for spec in (
        TableSpec("members", Member, "Members", ("member_id",)),
        TableSpec(
            "facilities", Facility, "Facilities / certified entities", ("facility_id",),
            {"member_id": ("members", "member_id")},
        ),
        TableSpec(
            "certifications", Certification, "Certifications", ("certification_id",),
            {"facility_id": ("facilities", "facility_id"), "auditing_firm_id": ("auditing_firms", "auditing_firm_id")},
        ),
        TableSpec(
            "audits", Audit, "Audits", ("audit_id",),
            {
                "certification_id": ("certifications", "certification_id"),
                "auditing_firm_id": ("auditing_firms", "auditing_firm_id"),
            },
        ),
        TableSpec(
            "audit_findings", AuditFinding, "Audit findings", ("audit_id", "criterion"),
            {"audit_id": ("audits", "audit_id")},
        ),
        TableSpec(
            "coc_reports", CocReport, "CoC annual material reports",
            ("facility_id", "reporting_year", "stage", "material"),
            {"facility_id": ("facilities", "facility_id")},
        ),
        TableSpec(
            "indicators", Indicator, "Indicators", ("indicator_code",),
            {"toc_node_id": ("toc_nodes", "node_id")}, is_public=True,
        ),
        TableSpec(
            "indicator_observations", IndicatorObservation, "Indicator observations",
            ("indicator_code", "period_on", "dimension", "dimension_value"),
            {"indicator_code": ("indicators", "indicator_code")}, is_public=True,
        ),
        TableSpec("toc_nodes", TocNode, "Theory-of-change nodes", ("node_id",), is_public=True),
        TableSpec(
            "toc_edges", TocEdge, "Theory-of-change links", ("source_node_id", "target_node_id"),
            {"source_node_id": ("toc_nodes", "node_id"), "target_node_id": ("toc_nodes", "node_id")},
            is_public=True,
        ),
        TableSpec("training_records", TrainingRecord, "Training records (educationAl)", ("record_id",)),
        TableSpec("governance_meetings", GovernanceMeeting, "Governance meetings", ("meeting_id",), is_public=True),
        TableSpec("auditing_firms", AuditingFirm, "Accredited auditing firms", ("auditing_firm_id",), is_public=True),
        TableSpec(
            "evidence", Evidence, "Evaluations and Stories of Change", ("evidence_id",), is_public=True,
        ),
        TableSpec(
            "evidence_findings", EvidenceFinding, "Findings of evaluations and Stories of Change",
            ("evidence_id", "finding_no"),
            {"evidence_id": ("evidence", "evidence_id"), "toc_node_id": ("toc_nodes", "node_id"),
             "indicator_code": ("indicators", "indicator_code")},
            is_public=True,
        ),
        TableSpec(
            "toc_assumptions", TocAssumption, "Theory-of-change assumptions", ("assumption_id",),
            {"toc_node_id": ("toc_nodes", "node_id"), "evidence_id": ("evidence", "evidence_id")}, is_public=True,
        ),
        TableSpec("global_totals", GlobalTotal, "Global totals (IAI)", ("year", "stage"), is_public=True),
        TableSpec(
            "smelter_emissions", SmelterEmission, "Smelter GHG intensity", ("facility_id", "year"),
            {"facility_id": ("facilities", "facility_id")},
        ),
        TableSpec(
            "risks", Risk, "Risk register (Risk Assessment and Management Plan)", ("risk_id", "revision"),
            is_secretariat_only=True,
        ),
    )
}

# List-valued columns whose elements reference another table.
LIST_REFERENCES: dict[tuple[str, str], tuple[str, str]] = {
    ("evidence", "toc_node_ids"): ("toc_nodes", "node_id"),
}

LIST_SEPARATOR = ";"
