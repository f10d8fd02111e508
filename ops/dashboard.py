"""Reads behind the admin's operations dashboard: job volume, failures, engine speed, render quota usage.

Every number is a grouped query over the job tables (no per-job Python loops), so the page stays cheap with
many jobs. Days follow ``ECG_QUOTA_TIME_ZONE`` so that a dashboard day is the same day the quotas count.
Render quota rows reuse ``rendering.quotas`` (what counts, the windows) and ``accounts.selectors.user_limits``
(which limit applies), so the dashboard can never disagree with what the API enforces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.selectors import user_limits
from ecg.jobs import ACTIVE, JobStatus, job_kinds
from rendering import quotas
from rendering.models import RenderJob


def kind_names() -> list[str]:
    """The registered job kinds' names, in registration order (the chart's bar order)."""
    return [kind.name for kind in job_kinds()]


@dataclass(frozen=True)
class DayCount:
    """Jobs created on one local day, per kind name, and how many of them failed."""

    day: date
    totals: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)

    def total(self, kind: str) -> int:
        return self.totals.get(kind, 0)

    def failed(self, kind: str) -> int:
        return self.failures.get(kind, 0)


@dataclass(frozen=True)
class FailureStats:
    """Finished jobs of one kind; cancellations are not failures and stay out of the rate."""

    kind: str
    completed: int
    failed: int
    cancelled: int
    active: int
    stale: int  # processing with a heartbeat older than JOB_HEARTBEAT_STALE_SECONDS

    @property
    def failure_rate(self) -> float | None:
        finished = self.completed + self.failed
        return self.failed / finished if finished else None

    @property
    def failure_percent(self) -> float | None:
        rate = self.failure_rate
        return None if rate is None else 100 * rate


@dataclass(frozen=True)
class ErrorCount:
    kind: str
    code: str
    count: int


@dataclass(frozen=True)
class EngineSpeed:
    """RTF = total processing time ÷ total media time of completed jobs (a duration-weighted average)."""

    kind: str
    engine: str
    jobs: int
    media_seconds: float
    processing_seconds: float

    @property
    def real_time_factor(self) -> float | None:
        return self.processing_seconds / self.media_seconds if self.media_seconds else None


@dataclass(frozen=True)
class QuotaBar:
    used: int
    limit: int

    @property
    def full(self) -> bool:
        return self.used >= self.limit

    @property
    def meter_high(self) -> float:
        """``<meter high>``: half a render below the limit, so the bar turns red exactly when it is full."""
        return max(0.0, self.limit - 0.5)


@dataclass(frozen=True)
class UserQuota:
    user_id: int
    email: str
    daily: QuotaBar
    monthly: QuotaBar
    concurrent: QuotaBar

    @property
    def at_limit(self) -> bool:
        return self.daily.full or self.monthly.full or self.concurrent.full


@dataclass(frozen=True)
class Dashboard:
    days: int
    since: datetime
    per_day: list[DayCount]
    failures: list[FailureStats]
    top_errors: list[ErrorCount]
    speeds: list[EngineSpeed]
    quota_users: list[UserQuota]


def quota_zone() -> ZoneInfo:
    return ZoneInfo(settings.QUOTA_TIME_ZONE)


def window_start(days: int, now: datetime) -> datetime:
    """Local midnight ``days - 1`` days before today: the window holds today and the days before it."""
    local = now.astimezone(quota_zone())
    first = (local - timedelta(days=days - 1)).date()
    return datetime(first.year, first.month, first.day, tzinfo=quota_zone())


def jobs_per_day(*, days: int = 30, now: datetime | None = None) -> list[DayCount]:
    """Jobs created per local day (all outcomes) and how many of them failed, oldest day first, no gaps."""
    now = now or timezone.now()
    since = window_start(days, now)
    totals: dict[date, dict[str, int]] = {}
    failures: dict[date, dict[str, int]] = {}
    for kind in job_kinds():
        rows = (kind.model.objects.filter(created_at__gte=since)
                .annotate(day=TruncDate("created_at", tzinfo=quota_zone())).values("day")
                .annotate(total=Count("id"), failed=Count("id", filter=Q(status=JobStatus.FAILED)))
                .order_by("day"))
        for row in rows:
            totals.setdefault(row["day"], {})[kind.name] = row["total"]
            failures.setdefault(row["day"], {})[kind.name] = row["failed"]
    first = since.date()
    dates = [first + timedelta(days=i) for i in range(days)]
    return [DayCount(day=d, totals=totals.get(d, {}), failures=failures.get(d, {})) for d in dates]


def failure_stats(*, since: datetime, now: datetime | None = None) -> list[FailureStats]:
    now = now or timezone.now()
    stale_before = now - timedelta(seconds=settings.JOB_HEARTBEAT_STALE_SECONDS)
    stats = []
    for kind in job_kinds():
        totals = kind.model.objects.aggregate(
            completed=Count("id", filter=Q(created_at__gte=since, status=JobStatus.COMPLETED)),
            failed=Count("id", filter=Q(created_at__gte=since, status=JobStatus.FAILED)),
            cancelled=Count("id", filter=Q(created_at__gte=since, status=JobStatus.CANCELLED)),
            active=Count("id", filter=Q(status__in=ACTIVE)),
            stale=Count("id", filter=Q(status=JobStatus.PROCESSING, heartbeat_at__lt=stale_before)),
        )
        stats.append(FailureStats(kind=kind.name, **totals))
    return stats


def top_error_codes(*, since: datetime, limit: int = 10) -> list[ErrorCount]:
    """The most frequent error codes of failed jobs, both kinds together, most frequent first."""
    errors = []
    for kind in job_kinds():
        rows = (kind.model.objects.filter(created_at__gte=since, status=JobStatus.FAILED).values("error_code")
                .annotate(count=Count("id")).order_by("-count", "error_code")[:limit])
        errors += [ErrorCount(kind=kind.name, code=row["error_code"] or "(none)", count=row["count"]) for row in rows]
    return sorted(errors, key=lambda e: (-e.count, e.kind, e.code))[:limit]


def engine_speeds(*, since: datetime) -> list[EngineSpeed]:
    """Real-time factor per ASR engine and per video encoder over completed jobs finished in the window."""
    processing = ExpressionWrapper(F("finished_at") - F("started_at"), output_field=DurationField())
    speeds = []
    for kind in job_kinds():
        engine = kind.engine_field
        if not engine:
            continue
        rows = (kind.model.objects.filter(status=JobStatus.COMPLETED, finished_at__gte=since,
                                          started_at__isnull=False, media_duration__gt=0)
                .values(engine).annotate(jobs=Count("id"), media=Sum("media_duration"), processing=Sum(processing))
                .order_by(engine))
        speeds += [EngineSpeed(kind=kind.name, engine=row[engine] or "(unknown)", jobs=row["jobs"],
                               media_seconds=float(row["media"] or 0.0),
                               processing_seconds=row["processing"].total_seconds() if row["processing"] else 0.0)
                   for row in rows]
    return speeds


def render_quota_usage(*, now: datetime | None = None, limit: int = 25) -> list[UserQuota]:
    """Users with the most counted renders this quota month (plus anyone rendering now), against their limits."""
    now = now or timezone.now()
    day, _next_day, month, _next_month = quotas._window_starts(now)
    month_jobs = quotas.counted(RenderJob.objects.filter(created_at__gte=month))
    ranked = list(month_jobs.values("owner").annotate(monthly=Count("id"), daily=Count("id", filter=Q(
        created_at__gte=day))).order_by("-daily", "-monthly", "owner")[:limit])
    running = dict(RenderJob.objects.filter(status__in=ACTIVE).values("owner").annotate(n=Count("id"))
                   .values_list("owner", "n"))
    owners = [row["owner"] for row in ranked]
    owners += [owner for owner in sorted(running) if owner not in owners][:max(0, limit - len(owners))]
    used = {row["owner"]: row for row in ranked}
    users = get_user_model().objects.select_related("plan").in_bulk(owners)
    rows = []
    for owner in owners:
        user, limits = users[owner], user_limits(users[owner])
        counts = used.get(owner, {"daily": 0, "monthly": 0})
        rows.append(UserQuota(
            user_id=owner, email=user.email,
            daily=QuotaBar(counts["daily"], limits.daily_renders),
            monthly=QuotaBar(counts["monthly"], limits.monthly_renders),
            concurrent=QuotaBar(running.get(owner, 0), limits.concurrent_renders)))
    return rows


def dashboard(*, days: int = 30, now: datetime | None = None) -> Dashboard:
    now = now or timezone.now()
    since = window_start(days, now)
    return Dashboard(days=days, since=since, per_day=jobs_per_day(days=days, now=now),
                     failures=failure_stats(since=since, now=now), top_errors=top_error_codes(since=since),
                     speeds=engine_speeds(since=since), quota_users=render_quota_usage(now=now))
