"""The admin as an operations console: render quota columns on users, and the index grouped for operators.

These pieces span apps (a user's render quota belongs to ``rendering``, the user to ``accounts``), so they
live above both; ``accounts.admin`` stays free of any rendering import.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.admin import UserAdmin as AccountsUserAdmin
from accounts.models import User
from accounts.selectors import default_plan, user_limits
from rendering import quotas
from rendering.models import RenderJob


class UserAdmin(AccountsUserAdmin):
    """The accounts user admin plus today's renders against the limit (annotated: no query per row)."""

    list_display = [*AccountsUserAdmin.list_display[:4], "renders_today", *AccountsUserAdmin.list_display[4:]]
    readonly_fields = ["render_quota", *AccountsUserAdmin.readonly_fields]
    fieldsets = tuple((name, {**options, "fields": (*options["fields"], "render_quota")})
                      if "plan" in options["fields"] else (name, options)
                      for name, options in AccountsUserAdmin.fieldsets)

    def get_queryset(self, request: HttpRequest):
        day = quotas._window_starts(timezone.now())[0]
        today = (quotas.counted(RenderJob.objects.filter(owner=OuterRef("pk"), created_at__gte=day))
                 .order_by().values("owner").annotate(n=Count("pk")).values("n"))
        self._fallback_plan = default_plan()  # one query per list page instead of one per plan-less user
        return super().get_queryset(request).annotate(
            renders_today_count=Coalesce(Subquery(today, output_field=IntegerField()), Value(0)))

    @admin.display(description=_("renders today"), ordering="renders_today_count")
    def renders_today(self, obj: User) -> str:
        limit = user_limits(obj, fallback_plan=getattr(self, "_fallback_plan", None)).daily_renders
        return f"{obj.renders_today_count}/{limit}"

    @admin.display(description=_("render quota usage"))
    def render_quota(self, obj: User):
        if obj.pk is None:
            return "—"
        use = quotas.usage(obj)
        return format_html("today {}/{} · this month {}/{} · running {}/{}", use.daily.used, use.daily.limit,
                           use.monthly.used, use.monthly.limit, use.concurrent.used, use.concurrent.limit)


admin.site.unregister(User)
admin.site.register(User, UserAdmin)
