"""What the demo generator and its series share: the seed, IAI's totals and the world of rows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import pairwise

from asi_me.data.vocab import CocStage

SEED = 20151101


IAI_SOURCE = "IAI (demo values calibrated to published totals)"


GLOBAL_T: dict[CocStage, list[float]] = {  # 2017..2025, million tonnes
    CocStage.BAUXITE_MINING: [350, 355, 362, 390, 392, 385, 398, 400, 400],
    CocStage.ALUMINA_REFINING: [135, 136, 136, 135, 139, 138, 142, 144, 145],
    CocStage.PRIMARY_PRODUCTION: [63.4, 64.3, 63.7, 65.3, 67.092, 69.038, 70.593, 72.5, 73.8],
    CocStage.SEMI_FABRICATION: [92, 95, 96, 94, 100, 101, 102, 104, 106],
    CocStage.MATERIAL_CONVERSION: [86, 88, 89, 87, 93, 94, 95, 97, 99],
    CocStage.RECYCLING: [30, 31, 32, 31, 33, 33.5, 34, 34.5, 35],
}


@dataclass
class World:
    """Everything generated so far, as plain Python rows."""

    members: list[dict] = field(default_factory=list)
    member_segment: dict[str, str] = field(default_factory=dict)
    facilities: list[dict] = field(default_factory=list)
    certifications: list[dict] = field(default_factory=list)
    chains: list[dict] = field(default_factory=list)
    audits: list[dict] = field(default_factory=list)
    findings: list[dict] = field(default_factory=list)
    coc_reports: list[dict] = field(default_factory=list)
    firms: list[dict] = field(default_factory=list)
    seeded: dict[str, object] = field(default_factory=dict)


def next_audits(world: World) -> dict[str, dict]:
    """The next audit (by date) of the same facility and standard, for each audit."""
    by_key: dict[tuple[str, str], list[dict]] = defaultdict(list)
    for a in world.audits:
        by_key[(a["_cert"]["facility_id"], a["_cert"]["standard"])].append(a)
    nxt: dict[str, dict] = {}
    for audits in by_key.values():
        audits.sort(key=lambda a: (a["audited_on"], a["audit_id"]))
        for a, b in pairwise(audits):
            nxt[a["audit_id"]] = b
    return nxt
