from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.models import Plan, QuotaOverride, User


class QuotaOverrideInline(admin.StackedInline):
    model = QuotaOverride
    can_delete = True
    extra = 0
    max_num = 1


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["-created_at"]
    list_display = ["email", "username", "auth_provider", "plan", "renders_today", "is_active", "is_verified",
                    "is_staff", "created_at"]
    readonly_fields = ["render_quota", "last_login", "date_joined", "created_at"]
    list_filter = ["auth_provider", "plan", "is_active", "is_verified", "is_staff"]
    search_fields = ["email", "username"]
    list_select_related = ["plan"]
    inlines = [QuotaOverrideInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Profile"), {"fields": ("username", "first_name", "last_name", "auth_provider", "is_verified")}),
        (_("Plan"), {"fields": ("plan", "render_quota")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Dates"), {"fields": ("last_login", "date_joined", "created_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "username", "password1", "password2")}),)


    @admin.display(description=_("renders today"))
    def renders_today(self, obj):
        from rendering.quotas import usage

        daily = usage(obj).daily
        return f"{daily.used}/{daily.limit}"

    @admin.display(description=_("render quota usage"))
    def render_quota(self, obj):
        from rendering.quotas import usage

        if obj.pk is None:
            return "—"
        use = usage(obj)
        return format_html("today {}/{} · this month {}/{} · running {}/{}", use.daily.used, use.daily.limit,
                           use.monthly.used, use.monthly.limit, use.concurrent.used, use.concurrent.limit)

@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "daily_renders", "monthly_renders", "concurrent_renders", "max_media_seconds",
                    "is_default"]
    list_editable = ["daily_renders", "monthly_renders", "concurrent_renders", "is_default"]

