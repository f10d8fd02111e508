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


def user_limits(user) -> Limits:
    plan = user.plan or Plan.objects.filter(is_default=True).first()
    limits = {
        "daily_renders": plan.daily_renders if plan else settings.DEFAULT_DAILY_RENDERS,
        "monthly_renders": plan.monthly_renders if plan else settings.DEFAULT_MONTHLY_RENDERS,
        "concurrent_renders": plan.concurrent_renders if plan else settings.DEFAULT_CONCURRENT_RENDERS,
        "max_media_seconds": plan.max_media_seconds if plan else settings.DEFAULT_MAX_MEDIA_SECONDS,
    }
    override = QuotaOverride.objects.filter(user=user).first()
    if override:
        for field in limits:
            value = getattr(override, field)
            if value is not None:
                limits[field] = value
    return Limits(**limits)
