"""Who is looking (Viewer) and what they filtered (Filters), shared by every query.

Filters round-trip through URL query parameters so that a copied link reproduces a
view. Every value is checked against its closed vocabulary here; a bad value raises
FilterError with a sentence a person can act on, before any SQL runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from asi_me.data.vocab import (
    Activity,
    CertificationStatus,
    MembershipClass,
    Region,
    Role,
    Standard,
    StandardVersion,
    countries,
)


class FilterError(ValueError):
    """A filter value is not allowed; the message says which and what is allowed."""


@dataclass(frozen=True)
class Viewer:
    """The person a query answers: their role and, for a member, their company."""

    role: Role = Role.PUBLIC
    member_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "role", Role(self.role))
        if self.role is Role.MEMBER and not self.member_id:
            raise FilterError("A member viewer needs the member_id of their company.")
        if self.role is not Role.MEMBER and self.member_id is not None:
            raise FilterError(f"Only a member viewer has a member_id; a {self.role} viewer has none.")

    @classmethod
    def public(cls) -> Viewer:
        return cls(Role.PUBLIC)

    @classmethod
    def secretariat(cls) -> Viewer:
        return cls(Role.SECRETARIAT)

    @classmethod
    def member(cls, member_id: str) -> Viewer:
        return cls(Role.MEMBER, member_id)

    @property
    def sees_everything(self) -> bool:
        return self.role is Role.SECRETARIAT


# URL parameter name -> (Filters field, vocabulary or None for free codes)
_LIST_PARAMS: dict[str, tuple[str, type | None]] = {
    "region": ("regions", Region),
    "country": ("countries", None),
    "activity": ("activities", Activity),
    "standard": ("standards", Standard),
    "version": ("versions", StandardVersion),
    "class": ("membership_classes", MembershipClass),
    "status": ("statuses", CertificationStatus),
}
_DATE_PARAMS: dict[str, str] = {"as_of": "as_of", "from": "period_from", "to": "period_to"}


@dataclass(frozen=True)
class Filters:
    """The global filter bar. Empty tuples mean "all"; None dates mean "latest data"."""

    as_of: date | None = None
    period_from: date | None = None
    period_to: date | None = None
    regions: tuple[str, ...] = field(default_factory=tuple)
    countries: tuple[str, ...] = field(default_factory=tuple)
    activities: tuple[str, ...] = field(default_factory=tuple)
    standards: tuple[str, ...] = field(default_factory=tuple)
    versions: tuple[str, ...] = field(default_factory=tuple)
    membership_classes: tuple[str, ...] = field(default_factory=tuple)
    statuses: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        for param, (name, vocab) in _LIST_PARAMS.items():
            raw = getattr(self, name)
            if isinstance(raw, str):
                raw = (raw,)
            values = tuple(dict.fromkeys(str(v.value if hasattr(v, "value") else v) for v in raw))
            allowed = [m.value for m in vocab] if vocab is not None else list(countries())
            for value in values:
                if value not in allowed:
                    shown = ", ".join(allowed[:12]) + (", ..." if len(allowed) > 12 else "")
                    raise FilterError(
                        f"Filter {param!r} has value {value!r}, which is not allowed; use one of {shown}."
                    )
            object.__setattr__(self, name, values)
        for param, name in _DATE_PARAMS.items():
            value = getattr(self, name)
            if value is not None and not isinstance(value, date):
                raise FilterError(f"Filter {param!r} must be a date, got {value!r}.")
        if self.period_from and self.period_to and self.period_from > self.period_to:
            raise FilterError(f"Filter 'from' ({self.period_from}) is after 'to' ({self.period_to}); swap them.")

    def sql_params(self) -> dict[str, Any]:
        """Named parameters for the shared filter predicates in queries/*.sql.

        Lists bind as VARCHAR[]; an empty list means no restriction.
        """
        return {
            "regions": list(self.regions),
            "countries": list(self.countries),
            "activities": list(self.activities),
            "standards": list(self.standards),
            "versions": list(self.versions),
            "membership_classes": list(self.membership_classes),
            "statuses": list(self.statuses),
        }

    @property
    def active(self) -> dict[str, tuple[str, ...] | date]:
        """The filters that restrict anything, by URL name, for "active filters" displays."""
        out: dict[str, tuple[str, ...] | date] = {}
        for param, name in _DATE_PARAMS.items():
            if getattr(self, name) is not None:
                out[param] = getattr(self, name)
        for param, (name, _) in _LIST_PARAMS.items():
            if getattr(self, name):
                out[param] = getattr(self, name)
        return out

    def to_query_params(self) -> dict[str, str | list[str]]:
        """URL query parameters; lists become repeated keys."""
        out: dict[str, str | list[str]] = {}
        for param, value in self.active.items():
            out[param] = value.isoformat() if isinstance(value, date) else list(value)
        return out

    @classmethod
    def from_query_params(cls, params: Mapping[str, str | Iterable[str]]) -> Filters:
        """Build filters from URL parameters; unknown keys are ignored, bad values raise FilterError."""
        kwargs: dict[str, Any] = {}
        for param, name in _DATE_PARAMS.items():
            raw = _last(params.get(param))
            if raw:
                try:
                    kwargs[name] = date.fromisoformat(raw)
                except ValueError as exc:
                    raise FilterError(f"Filter {param!r} has value {raw!r}; write a date as YYYY-MM-DD.") from exc
        for param, (name, _) in _LIST_PARAMS.items():
            raw = params.get(param)
            if raw is None:
                continue
            items = [raw] if isinstance(raw, str) else list(raw)
            values = [v for item in items for v in str(item).split(",") if v]
            kwargs[name] = tuple(values)
        return cls(**kwargs)

    def replace(self, **changes: Any) -> Filters:
        current = {f.name: getattr(self, f.name) for f in fields(self)}
        current.update(changes)
        return Filters(**current)


def _last(value: str | Iterable[str] | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    items = list(value)
    return items[-1] if items else None
