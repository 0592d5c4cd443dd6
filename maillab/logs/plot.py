"""matplotlib figures of a parsed mail log; each returns its Figure, never shows it."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from maillab.logs.spam import spam_stats
from maillab.logs.summary import summary


def plot_traffic(df: pd.DataFrame) -> Figure:
    """Received, delivered, deferred, bounced and rejected per hour of the day."""
    per_hour = summary(df).per_hour
    figure = Figure(figsize=(9, 4))
    axes = figure.subplots()
    per_hour.plot.bar(ax=axes, width=0.8)
    axes.set_xlabel("heure")
    axes.set_ylabel("messages")
    axes.set_title("Trafic par heure (comptage pflogsumm)")
    return figure


def plot_spam(df: pd.DataFrame) -> Figure:
    """spamd's scores (histogram, with the threshold) and the ham/spam split."""
    stats = spam_stats(df)
    figure = Figure(figsize=(9, 4))
    scores, split = figure.subplots(1, 2)
    stats.histogram.plot.bar(ax=scores, color="tab:orange")
    scores.set_xlabel("score (par tranche de 1 point)")
    scores.set_ylabel("analyses")
    scores.set_title(f"Scores SpamAssassin (seuil {stats.threshold})")
    split.bar(["ham", "spam"], [stats.ham, stats.spam], color=["tab:green", "tab:red"])
    split.set_title(f"Taux de spam : {stats.spam_rate:.0%}")
    return figure
