import math

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.login_throttle import LoginAttempt, LoginBlocked
from accounts.models import Plan, QuotaOverride, User
from ecg.http import client_ip


class ThrottledAdminLoginForm(AdminAuthenticationForm):
    """The admin login with the API login's failure limits (accounts.login_throttle): same counters."""

    def clean(self):
        email, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        if email is None or not password:
            return super().clean()
        try:
            attempt = LoginAttempt(email=email, ip=client_ip(self.request))
        except LoginBlocked as exc:
            self.request.login_retry_after = exc.retry_after
            raise ValidationError(
                _("Too many failed login attempts. Please try again in %(minutes)d minutes."),
                code="rate_limited", params={"minutes": math.ceil(exc.retry_after / 60)}) from None
        cleaned = super().clean()  # a wrong password raises here and its count stays
        attempt.succeeded()
        return cleaned


def _throttled_login(login):
    """``AdminSite.login`` answering 429 with ``Retry-After`` when the form refused a blocked attempt."""

    def view(request, extra_context=None):
        response = login(request, extra_context)
        retry_after = getattr(request, "login_retry_after", None)
        if retry_after:
            response.status_code = 429
            response["Retry-After"] = str(retry_after)
        return response

    return view


admin.site.login_form = ThrottledAdminLoginForm
admin.site.login = _throttled_login(admin.site.login)


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

