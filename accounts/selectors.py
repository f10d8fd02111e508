"""Reads about users: the limits that apply to a user (override → plan → default plan → settings)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from accounts.models import Plan, QuotaOverride


@dataclass(frozen=True)
class Limits:
    daily_renders: int
    monthly_renders: int
    concurrent_renders: int
    max_media_seconds: float


_LOOK_UP = object()


def default_plan() -> Plan | None:
    return Plan.objects.filter(is_default=True).first()


def user_limits(user, *, fallback_plan: Plan | None | object = _LOOK_UP) -> Limits:
    """``fallback_plan``: the default plan when the caller already has it (lists: one query, not one per row)."""
    plan = user.plan or (default_plan() if fallback_plan is _LOOK_UP else fallback_plan)
    limits = {
        "daily_renders": plan.daily_renders if plan else settings.DEFAULT_DAILY_RENDERS,
        "monthly_renders": plan.monthly_renders if plan else settings.DEFAULT_MONTHLY_RENDERS,
        "concurrent_renders": plan.concurrent_renders if plan else settings.DEFAULT_CONCURRENT_RENDERS,
        "max_media_seconds": plan.max_media_seconds if plan else settings.DEFAULT_MAX_MEDIA_SECONDS,
    }
    override = _override(user)
    if override:
        for field in limits:
            value = getattr(override, field)
            if value is not None:
                limits[field] = value
    return Limits(**limits)


def _override(user) -> QuotaOverride | None:
    """The user's override: no query when the list that loaded ``user`` used select_related("quota_override")."""
    if user.pk is None:
        return None
    try:
        return user.quota_override
    except QuotaOverride.DoesNotExist:
        return None
