"""JWT from ``Authorization: Bearer`` or the HttpOnly ``access_token`` cookie.

The editor keeps its token in memory only, so after a reload the cookie is its only credential. Cookies
travel automatically, so a cookie-authenticated unsafe request must come from an allowed origin: that,
with SameSite=Lax, is our CSRF defence (the editor never sends CSRF tokens).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS
from rest_framework_simplejwt.authentication import JWTAuthentication

from ecg.http import origin_is_allowed

ACCESS_COOKIE = "access_token"
REFRESH_COOKIE = "refresh_token"


class OriginNotAllowed(exceptions.PermissionDenied):
    default_detail = _("This request's origin is not allowed.")
    code_override = "ORIGIN_NOT_ALLOWED"


def enforce_origin(request) -> None:
    if request.method not in SAFE_METHODS and not origin_is_allowed(request):
        raise OriginNotAllowed()


class CookieOrBearerJWTAuthentication(JWTAuthentication):
    def authenticate(self, request):
        header = self.get_header(request)
        if header is not None:
            return super().authenticate(request)
        raw = request.COOKIES.get(ACCESS_COOKIE)
        if not raw:
            return None
        validated = self.get_validated_token(raw.encode())
        enforce_origin(request)
        return self.get_user(validated), validated
