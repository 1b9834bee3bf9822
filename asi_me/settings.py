"""Runtime configuration, read from environment variables (prefix ASI_).

| variable | meaning | default |
|---|---|---|
| ASI_DATA_DIR | folder holding snapshots/, CURRENT and the ingest log | <repo>/data |
| ASI_MIN_REPORTERS | fewest distinct reporting companies for a published cell | 5 |
| ASI_MAX_DOMINANCE | largest share one company may hold in a published cell | 0.25 |
| ASI_P_PERCENT | p% rule: the rest of a cell after its two largest companies must exceed p% of the largest | 10 |
| ASI_PROTECTION_LEVEL | how far (share of its value, each side) a hidden figure must stay unprovable | 0.15 |
| ASI_ALLOW_ROLE_SWITCH | let a local run switch role (demo data only) | 1 |
| ASI_MASS_BALANCE | CoC mass-balance failure at ingest: `error` blocks, `warn` only reports | error |
| ASI_SNAPSHOTS_KEEP | snapshots `python -m asi_me snapshots prune` keeps besides CURRENT's | 5 |

Server-side knobs read where they act: ASI_CONCURRENT_RUNS (asi_me/ui/process.py),
ASI_MAP_REGISTER_ROWS (pages/map.py), ASI_DOWNLOAD_CACHE_DIR and ASI_DOWNLOAD_CACHE_MB
(asi_me/publish/download_cache.py); all are in docs/configuration.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
QUERIES_DIR = REPO_ROOT / "queries"


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"Environment variable {name}={raw!r} is not a number; set it to e.g. {default}.") from exc


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    min_reporters: int = 5
    max_dominance: float = 0.25
    allow_role_switch: bool = True
    mass_balance: str = "error"
    p_percent: float = 10.0
    protection_level: float = 0.15

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(os.environ.get("ASI_DATA_DIR") or REPO_ROOT / "data").resolve()
        min_reporters = int(_float("ASI_MIN_REPORTERS", 5))
        max_dominance = _float("ASI_MAX_DOMINANCE", 0.25)
        if min_reporters < 1:
            raise ValueError(f"ASI_MIN_REPORTERS={min_reporters} must be at least 1.")
        if not 0 < max_dominance <= 1:
            raise ValueError(f"ASI_MAX_DOMINANCE={max_dominance} must be in (0, 1].")
        allow = os.environ.get("ASI_ALLOW_ROLE_SWITCH", "1").lower() not in {"0", "false", "no"}
        mass_balance = (os.environ.get("ASI_MASS_BALANCE") or "error").strip().lower()
        if mass_balance not in {"error", "warn"}:
            raise ValueError(f"ASI_MASS_BALANCE={mass_balance!r} must be 'error' or 'warn'.")
        p_percent = _float("ASI_P_PERCENT", 10.0)
        if not 0 <= p_percent < 100:
            raise ValueError(f"ASI_P_PERCENT={p_percent} must be at least 0 and below 100 (0 turns the rule off).")
        protection_level = _float("ASI_PROTECTION_LEVEL", 0.15)
        if not 0 <= protection_level < 1:
            raise ValueError(f"ASI_PROTECTION_LEVEL={protection_level} must be at least 0 and below 1, e.g. 0.15.")
        return cls(data_dir, min_reporters, max_dominance, allow, mass_balance, p_percent, protection_level)


def snapshots_keep() -> int:
    """How many of the most recent snapshots `snapshots prune` keeps by default (ASI_SNAPSHOTS_KEEP)."""
    keep = int(_float("ASI_SNAPSHOTS_KEEP", 5))
    if keep < 0:
        raise ValueError(f"ASI_SNAPSHOTS_KEEP={keep} must be 0 or more; set it to e.g. 5.")
    return keep
