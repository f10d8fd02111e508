"""How the OpenAPI schema describes our authentication (loaded by ``AccountsConfig.ready()``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class CookieOrBearerScheme(OpenApiAuthenticationExtension):
    """The access JWT in ``Authorization: Bearer`` or in the HttpOnly ``access_token`` cookie (either)."""

    target_class = "accounts.authentication.CookieOrBearerJWTAuthentication"
    name = ["bearerAuth", "cookieAuth"]

    def get_security_requirement(self, auto_schema: Any) -> list[dict]:
        return [{"bearerAuth": []}, {"cookieAuth": []}]

    def get_security_definition(self, auto_schema: Any) -> list[dict]:
        return [
            {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            {"type": "apiKey", "in": "cookie", "name": "access_token",
             "description": "Set by login/signup/refresh/Google login. Writes with this cookie need an allowed "
                            "Origin (or Referer)."},
        ]
