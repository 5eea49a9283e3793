"""The daily chart as server-rendered SVG geometry: no JavaScript, no chart library."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from usage.selectors import DayUsage

WIDTH = 720
HEIGHT = 200
PAD_TOP = 10
PAD_BOTTOM = 20


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    cost_points: str  # an SVG polyline "x,y x,y …"
    max_emails: int
    max_cost: Decimal
    first_label: str
    last_label: str
    baseline: float


def daily_chart(days: list[DayUsage]) -> Chart:
    """Bars for emails per day, a line for cost per day, each scaled to its own maximum."""
    plot = HEIGHT - PAD_TOP - PAD_BOTTOM
    baseline = PAD_TOP + plot
    max_emails = max((day.emails for day in days), default=0)
    max_cost = max((day.cost_usd for day in days), default=Decimal(0))
    slot = WIDTH / max(1, len(days))
    bars, points = [], []
    for index, day in enumerate(days):
        height = plot * day.emails / max_emails if max_emails else 0
        x = index * slot
        bars.append(
            Bar(
                x=round(x + slot * 0.1, 2),
                y=round(baseline - height, 2),
                width=round(slot * 0.8, 2),
                height=round(height, 2),
                label=f"{day.day:%b} {day.day.day}: {day.emails} emails, ${day.cost_usd:.2f}",
            )
        )
        cost_y = baseline - (plot * float(day.cost_usd / max_cost) if max_cost else 0)
        points.append(f"{round(x + slot / 2, 2)},{round(cost_y, 2)}")
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        cost_points=" ".join(points),
        max_emails=max_emails,
        max_cost=max_cost,
        first_label=f"{days[0].day:%b} {days[0].day.day}" if days else "",
        last_label=f"{days[-1].day:%b} {days[-1].day.day}" if days else "",
        baseline=baseline,
    )
