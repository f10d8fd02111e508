"""Google login endpoints (API.md section 1). Browser navigations, so every outcome is a redirect.

Success and failure both land on the frontend's ``/auth/callback`` page; the JWTs travel only as HttpOnly
cookies, never in the URL. The logic lives in ``accounts.google``.
"""

from __future__ import annotations

import logging
from urllib.parse import quote, urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.cache import never_cache

from accounts import google, services

logger = logging.getLogger(__name__)


def _frontend_redirect(**params: str) -> HttpResponseRedirect:
    # %20 rather than '+': the frontend may decode with decodeURIComponent, which leaves '+' alone.
    return HttpResponseRedirect(f"{settings.FRONTEND_URL}/auth/callback?{urlencode(params, quote_via=quote)}")


def _error_redirect(exc: google.GoogleLoginError) -> HttpResponseRedirect:
    # str() renders the lazy message in the request's language (LocaleMiddleware, Accept-Language).
    return _frontend_redirect(error=str(exc.message))


@method_decorator(never_cache, name="dispatch")
class GoogleLoginView(View):
    """Send the browser to Google's consent page, remembering state and PKCE verifier in a signed cookie."""

    http_method_names = ["get"]

    def get(self, request: HttpRequest) -> HttpResponseRedirect:
        try:
            start = google.login_start(request=request)
        except google.GoogleLoginError as exc:
            return _error_redirect(exc)
        response = HttpResponseRedirect(start.redirect_url)
        google.set_state_cookie(response, start.state_cookie)
        return response


@method_decorator(never_cache, name="dispatch")
class GoogleCallbackView(View):
    """Google's redirect back: log the user in with our JWT cookies and send them to the frontend."""

    http_method_names = ["get"]

    def get(self, request: HttpRequest) -> HttpResponseRedirect:
        try:
            user = google.login_finish(request=request, params=request.GET.dict(),
                                       state_cookie=request.COOKIES.get(google.STATE_COOKIE))
            response = _frontend_redirect(success="true")
            services.set_auth_cookies(response, services.issue_tokens(user))
        except google.GoogleLoginError as exc:
            response = _error_redirect(exc)
        except Exception:
            # A top-level navigation: a JSON 500 would strand the user on the API origin.
            logger.exception("google login: unexpected failure in the callback")
            response = _error_redirect(google.GoogleLoginError())
        google.clear_state_cookie(response)
        return response
