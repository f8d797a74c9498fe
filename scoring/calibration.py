"""Threshold calibration: what candidate thresholds would have produced, from closed outcomes (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from scoring.digest import BANDS, band_of

MIN_CLOSED: Final = 30
"""Below this many closed outcomes the calibration gives figures but no advice."""
CANDIDATE_FACTORS: Final = (0.8, 0.9, 1.0, 1.1, 1.25, 1.5)
"""Candidate thresholds as multiples of the current one."""
WASTED: Final = frozenset({"disqualified", "recycled"})


@dataclass(frozen=True)
class Sample:
    """One MQL of the calibration window and what became of it."""

    score: float
    kind: str  # threshold | trigger | external: triggers qualify whatever the score
    state: str  # open | claimed | sql | lead | recycled | disqualified
    opportunity: bool = False
    won: bool = False  # an opportunity of it was won
    won_amount: Mapping[str, Decimal] = field(default_factory=dict)  # per currency
    bad: bool = False  # an SDR flagged it "not a real MQL"

    @property
    def closed(self) -> bool:
        """An outcome to learn from: a disposition, or the SDR's "not a real MQL"."""
        return self.bad or self.state in ("sql", "lead", "recycled", "disqualified")


@dataclass(frozen=True)
class Candidate:
    """What one threshold would have produced over the sample (below the current one: at least)."""

    threshold: float
    mqls: int
    sql: int
    opportunities: int
    won: int
    won_amount: Mapping[str, Decimal]
    wasted: int  # MQLs that ended Disqualified or Recycled
    bad: int  # MQLs flagged "not a real MQL"
    removed: int  # MQLs of the sample it would not have made (raising)
    saved_hours: float  # SDR time not spent on the removed MQLs that led nowhere
    extra_leads: int = 0  # lowering: leads scoring in [candidate, current) now, outcome unknown


@dataclass(frozen=True)
class BandFigures:
    """Outcomes of one score band (the digest's bands)."""

    band: str
    mqls: int
    sql: int
    opportunities: int
    won: int
    wasted: int
    bad: int


@dataclass(frozen=True)
class Calibration:
    """The calibration: sample size, candidates, bands, and whether there is enough to advise."""

    threshold: float
    days: int
    sample: int
    closed: int
    candidates: tuple[Candidate, ...]
    bands: tuple[BandFigures, ...]

    @property
    def enough(self) -> bool:
        return self.closed >= MIN_CLOSED

    def advice(self) -> Candidate | None:
        """The highest candidate that loses no SQL and no won deal yet removes bad or wasted
        MQLs; None when the data is too thin or no such candidate exists. Never applied."""
        if not self.enough:
            return None
        current = next((c for c in self.candidates if c.threshold == self.threshold), None)
        if current is None:
            return None
        keep = [
            c
            for c in self.candidates
            if c.threshold > self.threshold
            and c.sql == current.sql
            and c.won == current.won
            and (c.bad < current.bad or c.wasted < current.wasted)
        ]
        return max(keep, key=lambda c: c.threshold, default=None)


def _sum(items: Iterable[Mapping[str, Decimal]]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for amounts in items:
        for currency, amount in amounts.items():
            out[currency] = out.get(currency, Decimal(0)) + amount
    return out


def _qualifies(sample: Sample, threshold: float) -> bool:
    return sample.kind == "trigger" or sample.score >= threshold


def calibrate(
    samples: Sequence[Sample],
    *,
    threshold: float,
    days: int,
    hours_per_mql: float,
    leads_between: Mapping[float, int] | None = None,
) -> Calibration:
    """Replay the sample under each candidate threshold around ``threshold``.

    Raising a threshold removes the MQLs scoring under it (triggers stay: they qualify whatever
    the score); the SDR hours saved are the removed MQLs that ended Disqualified, Recycled or
    flagged not real, times ``hours_per_mql``. Lowering one cannot be replayed — those leads never
    reached sales — so it shows the leads now scoring in between (``leads_between``) as extra.
    """
    if threshold <= 0:
        raise ValueError(f"threshold {threshold}: must be positive")
    candidates = []
    for factor in CANDIDATE_FACTORS:
        t = round(threshold * factor, 2)
        kept = [s for s in samples if _qualifies(s, max(t, threshold))]
        removed = [s for s in samples if not _qualifies(s, max(t, threshold))]
        useless = [s for s in removed if s.bad or s.state in WASTED]
        candidates.append(
            Candidate(
                threshold=t,
                mqls=len(kept),
                sql=sum(s.state == "sql" for s in kept),
                opportunities=sum(s.opportunity for s in kept),
                won=sum(s.won for s in kept),
                won_amount=_sum(s.won_amount for s in kept),
                wasted=sum(s.state in WASTED for s in kept),
                bad=sum(s.bad for s in kept),
                removed=len(removed),
                saved_hours=round(len(useless) * hours_per_mql, 1),
                extra_leads=(leads_between or {}).get(t, 0) if t < threshold else 0,
            )
        )
    bands = []
    for band in BANDS:
        members = [s for s in samples if band_of(s.score, threshold) == band]
        bands.append(
            BandFigures(
                band=band,
                mqls=len(members),
                sql=sum(s.state == "sql" for s in members),
                opportunities=sum(s.opportunity for s in members),
                won=sum(s.won for s in members),
                wasted=sum(s.state in WASTED for s in members),
                bad=sum(s.bad for s in members),
            )
        )
    return Calibration(
        threshold=threshold,
        days=days,
        sample=len(samples),
        closed=sum(s.closed for s in samples),
        candidates=tuple(candidates),
        bands=tuple(bands),
    )
