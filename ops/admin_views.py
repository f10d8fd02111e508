"""The admin's operations dashboard page (staff only) and its server-side SVG chart.

The chart is plain inline SVG built with ``format_html``: no JavaScript, no CDN, and it renders the same in
every browser and in a screenshot. Queries live in ``ops.dashboard``; this module only lays them out.
"""

from __future__ import annotations

import math

from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from ops import dashboard as selectors

COLORS = {"transcription": "#1c7ed6", "render": "#2b8a3e", "failed": "#c92a2a"}
LEGENDS = {"transcription": _("transcription jobs"), "render": _("render jobs")}
PALETTE = ("#7048e8", "#f08c00", "#0c8599", "#d6336c")  # kinds registered later get these in turn


def kind_color(kind: str, index: int) -> str:
    return COLORS.get(kind) or PALETTE[index % len(PALETTE)]
WIDTH, HEIGHT = 960, 300
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 34, 40


def _nice_ceiling(value: int) -> int:
    """An axis top of 4 equal integer steps, each step 1, 2 or 5 × 10^k, at or above ``value``."""
    need = max(1, math.ceil(value / 4))
    power = 10 ** math.floor(math.log10(need))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= need)
    return 4 * step


def jobs_chart(days: list[selectors.DayCount]) -> SafeString:
    """Grouped bars per day (one per job kind) with the failed part of each bar drawn in red."""
    kinds = selectors.kind_names()
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = _nice_ceiling(max([d.total(kind) for d in days for kind in kinds] + [0]))
    group = plot_w / max(len(days), 1)
    bar_w = max(2.0, (group - 4) / max(len(kinds), 1))

    def y(count: int) -> float:
        return TOP + plot_h - plot_h * count / top

    def num(value: float) -> str:  # format_html escapes its arguments to str first: format numbers here
        return f"{value:.1f}"

    grid = format_html_join("", '<line class="grid" x1="{}" x2="{}" y1="{}" y2="{}"/>'
                                '<text class="tick" x="{}" y="{}" text-anchor="end">{}</text>',
                            ((LEFT, WIDTH - RIGHT, num(y(v)), num(y(v)), LEFT - 6, num(y(v) + 4), v)
                             for v in (top * i // 4 for i in range(5))))
    bars, labels = [], []
    for i, day in enumerate(days):
        x0 = LEFT + i * group + 2
        for j, kind in enumerate(kinds):
            total, failed = day.total(kind), day.failed(kind)
            if not total:
                continue
            x = x0 + j * bar_w
            tip = f"{day.day.isoformat()} · {kind}: {total}" + (f" ({failed} failed)" if failed else "")
            bars.append(format_html(
                '<rect class="bar bar-{}" data-day="{}" data-kind="{}" data-count="{}" data-failed="{}" x="{}" '
                'y="{}" width="{}" height="{}" fill="{}"><title>{}</title></rect>',
                kind, day.day.isoformat(), kind, total, failed, num(x), num(y(total)), num(bar_w - 1),
                num(y(0) - y(total)), kind_color(kind, j), tip))
            if failed:
                bars.append(format_html(
                    '<rect class="bar-failed" data-day="{}" data-kind="{}" x="{}" y="{}" width="{}" '
                    'height="{}" fill="{}"><title>{}</title></rect>',
                    day.day.isoformat(), kind, num(x), num(y(failed)), num(bar_w - 1), num(y(0) - y(failed)),
                    COLORS["failed"], tip))
        if i % 5 == 0 or i == len(days) - 1:
            labels.append(format_html('<text class="tick" x="{}" y="{}" text-anchor="middle">{}</text>',
                                      num(x0 + bar_w), HEIGHT - BOTTOM + 16, day.day.strftime("%m-%d")))
    legend = format_html_join("", '<rect x="{}" y="8" width="12" height="12" fill="{}"/>'
                                  '<text class="legend" x="{}" y="19">{}</text>',
                              ((LEFT + k * 150, color, LEFT + k * 150 + 18, text) for k, (color, text) in
                               enumerate([*((kind_color(kind, j), LEGENDS.get(kind, f"{kind} jobs"))
                                            for j, kind in enumerate(kinds)),
                                          (COLORS["failed"], _("failed"))])))
    total = sum(d.total(kind) for d in days for kind in kinds)
    return format_html(
        '<svg class="ecg-chart" id="jobs-per-day" role="img" viewBox="0 0 {} {}" width="100%" '
        'preserveAspectRatio="xMinYMin meet" data-total="{}" xmlns="http://www.w3.org/2000/svg">'
        '<title>{}</title>{}{}<line class="axis" x1="{}" x2="{}" y1="{}" y2="{}"/>{}{}</svg>',
        WIDTH, HEIGHT, total, _("Jobs per day"), legend, grid, LEFT, WIDTH - RIGHT, num(y(0)), num(y(0)),
        format_html_join("", "{}", ((b,) for b in bars)),
        format_html_join("", "{}", ((label,) for label in labels)))


def dashboard_view(request: HttpRequest) -> TemplateResponse:
    data = selectors.dashboard(days=30)
    context = {
        **admin.site.each_context(request),
        "title": _("Operations dashboard"),
        "data": data,
        "chart": jobs_chart(data.per_day),
        "totals": {kind: sum(d.total(kind) for d in data.per_day) for kind in selectors.kind_names()},
    }
    return TemplateResponse(request, "admin/dashboard.html", context)


# admin_view: staff only, anonymous users go to the admin login, never cached.
dashboard = admin.site.admin_view(dashboard_view)
