from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
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
    # ops.admin extends this page with the render quota columns (rendering sits above accounts).
    list_display = ["email", "username", "auth_provider", "plan", "is_active", "is_verified", "is_staff",
                    "created_at"]
    readonly_fields = ["last_login", "date_joined", "created_at"]
    list_filter = ["auth_provider", "plan", "is_active", "is_verified", "is_staff"]
    search_fields = ["email", "username"]
    list_select_related = ["plan", "quota_override"]
    inlines = [QuotaOverrideInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Profile"), {"fields": ("username", "first_name", "last_name", "auth_provider", "is_verified")}),
        (_("Plan"), {"fields": ("plan",)}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("Dates"), {"fields": ("last_login", "date_joined", "created_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "username", "password1", "password2")}),)



@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["name", "daily_renders", "monthly_renders", "concurrent_renders", "max_media_seconds",
                    "is_default"]
    list_editable = ["daily_renders", "monthly_renders", "concurrent_renders", "is_default"]

