"""Kaplan-Meier curves of relief duration (the cohort page), drawn as SVG with matplotlib.

A minimal renderer for the web app's cohort page: per group (first series, boosters), the
share of series still in relief by days after the series' last session, from
``scipy.stats.ecdf`` of ``CensoredData`` (ended reliefs are events, ongoing or censored ones
are censored at their duration), the same estimate as the cohort summary's median. Only numbers
and fixed labels go into the chart.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from scipy import stats

from app.reports.chart import _NO_METADATA, _RENDER_LOCK, _chart_rc

STYLES = ("-", (0, (4, 2)))  # greyscale-safe: solid and dashed


@dataclass(frozen=True)
class KmGroup:
    label: str
    durations: tuple[int, ...]
    ended: tuple[bool, ...]  # per duration: True for an ended relief (an event)


def km_steps(durations: Sequence[int], ended: Sequence[bool]) -> tuple[list[float], list[float]]:
    """Step points ``(days, survival)`` starting at (0, 1); empty for no durations."""
    if not durations:
        return [], []
    events = [float(d) for d, e in zip(durations, ended, strict=True) if e]
    censored = [float(d) for d, e in zip(durations, ended, strict=True) if not e]
    if not events:  # nothing ended: the curve stays at 1 up to the longest follow-up
        return [0.0, float(max(durations))], [1.0, 1.0]
    result = stats.ecdf(stats.CensoredData(uncensored=events, right=censored))
    times = [0.0, *(float(t) for t in result.sf.quantiles)]
    survival = [1.0, *(float(p) for p in result.sf.probabilities)]
    longest = float(max(durations))
    if longest > times[-1]:
        times.append(longest)
        survival.append(survival[-1])
    return times, survival


def render_km_chart(groups: Sequence[KmGroup]) -> str:
    """One step curve per group with its n in the legend; censored times as ticks."""
    with _RENDER_LOCK, _chart_rc():
        figure = Figure(figsize=(7.4, 3.0))
        figure.subplots_adjust(left=0.08, right=0.98, bottom=0.16, top=0.95)
        FigureCanvasSVG(figure)
        axes = figure.add_subplot()
        for index, group in enumerate(groups):
            times, survival = km_steps(group.durations, group.ended)
            label = f"{group.label} (n = {len(group.durations)}, ended {sum(group.ended)})"
            if not times:
                axes.plot([], [], color="black", linestyle=STYLES[index % 2], label=label)
                continue
            (line,) = axes.step(
                times,
                survival,
                where="post",
                color="black",
                linewidth=1.2,
                linestyle=STYLES[index % 2],
                label=label,
            )
            line.set_gid(f"km-{index}")
            censored = [d for d, e in zip(group.durations, group.ended, strict=True) if not e]
            if censored:
                at = np.searchsorted(times, censored, side="right") - 1
                axes.plot(
                    censored,
                    [survival[i] for i in at],
                    linestyle="none",
                    marker="|",
                    markersize=5,
                    color="black",
                )
        axes.set_ylim(0, 1.04)
        axes.set_xlim(left=0)
        axes.set_xlabel("Days of relief after the series' last session")
        axes.set_ylabel("Still in relief")
        axes.axhline(0.5, color="#777777", linewidth=0.6, linestyle=(0, (1, 1.5)))
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.legend(frameon=False, fontsize=6.5, loc="upper right")
        buffer = io.BytesIO()
        figure.savefig(buffer, format="svg", metadata=_NO_METADATA)
    return buffer.getvalue().decode("utf-8")
