"""Render quotas: daily/monthly/concurrent limits from the user's plan and overrides.

Days and months follow ``ECG_QUOTA_TIME_ZONE`` (default Asia/Seoul). Cancelled renders never count; failed
ones count unless they failed through our own fault. The check and the insert happen in one transaction
that first locks the user's row, so simultaneous creates for one user are serialized and can never
overshoot a limit (PostgreSQL row lock; SQLite serializes writers anyway).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.selectors import user_limits
from ecg.jobs import ACTIVE, JobStatus

# Failures that are ours, not the user's: they give the render back.
OUR_FAULT = ("INTERNAL", "WORKER_LOST", "TIMEOUT", "RENDER_BROWSER_FAILED", "RENDER_ENCODER_FAILED", "RENDER_FAILED")


@dataclass(frozen=True)
class QuotaWindow:
    used: int
    limit: int
    resets_at: datetime | None = None


@dataclass(frozen=True)
class QuotaUsage:
    daily: QuotaWindow
    monthly: QuotaWindow
    concurrent: QuotaWindow


def _window_starts(now: datetime) -> tuple[datetime, datetime, datetime, datetime]:
    local = now.astimezone(ZoneInfo(settings.QUOTA_TIME_ZONE))
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    next_day = (day + timedelta(days=1)).replace(hour=0)
    next_month = (month + timedelta(days=32)).replace(day=1)
    return day, next_day, month, next_month


def counted(queryset: QuerySet) -> QuerySet:
    """Jobs that count toward daily/monthly quotas."""
    return queryset.exclude(status=JobStatus.CANCELLED).exclude(
        Q(status=JobStatus.FAILED) & Q(error_code__in=OUR_FAULT))


def usage(user, *, now: datetime | None = None) -> QuotaUsage:
    from rendering.models import RenderJob

    now = now or timezone.now()
    limits = user_limits(user)
    day, next_day, month, next_month = _window_starts(now)
    mine = RenderJob.objects.filter(owner=user)
    return QuotaUsage(
        daily=QuotaWindow(counted(mine.filter(created_at__gte=day)).count(), limits.daily_renders, next_day),
        monthly=QuotaWindow(counted(mine.filter(created_at__gte=month)).count(), limits.monthly_renders, next_month),
        concurrent=QuotaWindow(mine.filter(status__in=ACTIVE).count(), limits.concurrent_renders),
    )
