"""SpamAssassin's side of the log: what spamd scanned and what it called spam."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from maillab.logs.summary import spam_verdicts


@dataclass
class SpamStats:
    """spamd's verdicts: counts, rate and a score histogram (bins of 1 point)."""

    scanned: int
    spam: int
    ham: int
    spam_rate: float  # 0.0 to 1.0; 0.0 when nothing was scanned
    threshold: float | None
    histogram: pd.Series = field(repr=False)


def spam_stats(df: pd.DataFrame) -> SpamStats:
    """Counts from spamd's `clean message` / `identified spam` lines (errata E21).

    Every scan counts, the way the chapter's statistics should: a message
    sent to two filtered recipients is scanned twice.
    """
    verdicts = spam_verdicts(df)
    spam = int(verdicts["spam"].astype(bool).sum())
    scanned = len(verdicts)
    thresholds = verdicts["threshold"].dropna()
    return SpamStats(
        scanned=scanned,
        spam=spam,
        ham=scanned - spam,
        spam_rate=spam / scanned if scanned else 0.0,
        threshold=float(thresholds.iloc[-1]) if len(thresholds) else None,
        histogram=score_histogram(verdicts["score"]),
    )


def score_histogram(scores: pd.Series) -> pd.Series:
    """Scans per score bin [n, n+1); GTUBE's 1000 gets its own bin."""
    bins = scores.dropna().astype(float).floordiv(1).astype(int)
    return bins.value_counts().sort_index().rename_axis("score_bin")
