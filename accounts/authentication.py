"""JWT from ``Authorization: Bearer`` or the HttpOnly ``access_token`` cookie.

The editor keeps its token in memory only, so after a reload the cookie is its only credential. Cookies
travel automatically, so a cookie-authenticated unsafe request must come from an allowed origin: that,
with SameSite=Lax, is our CSRF defence (the editor never sends CSRF tokens).
"""

from __future__ import annotations

import time

from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.tokens import AccessToken

from ecg.http import origin_is_allowed

ACCESS_COOKIE = "access_token"
REFRESH_COOKIE = "refresh_token"


class OriginNotAllowed(exceptions.PermissionDenied):
    default_detail = _("This request's origin is not allowed.")
    code_override = "ORIGIN_NOT_ALLOWED"


def enforce_origin(request) -> None:
    if request.method not in SAFE_METHODS and not origin_is_allowed(request):
        raise OriginNotAllowed()


def _revoked_key(jti: str) -> str:
    return f"jwt-revoked:{jti}"


def revoke_access_token(raw: str | None) -> None:
    """Refuse this access token from now until it expires (logout): its jti is kept in the shared cache.

    Access tokens are stateless, so without this a logged-out token would keep working for the rest of its
    lifetime (JWT_ACCESS_MINUTES). An invalid or expired token needs nothing.
    """
    if not raw:
        return
    try:
        token = AccessToken(raw)
    except TokenError:
        return
    remaining = int(token["exp"] - time.time()) + 1
    if remaining > 0 and token.get("jti"):
        cache.set(_revoked_key(token["jti"]), 1, timeout=remaining)


class CookieOrBearerJWTAuthentication(JWTAuthentication):
    def get_validated_token(self, raw_token):
        token = super().get_validated_token(raw_token)
        if cache.get(_revoked_key(token.get("jti", ""))):
            raise InvalidToken(_("This token was revoked by logging out."))
        return token

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
