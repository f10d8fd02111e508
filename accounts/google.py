"""Google login (API.md section 1): the OAuth2 authorization-code flow with PKCE, ending in our JWT cookies.

django-allauth's Google provider does the OAuth2 parts (app config, scope, consent URL, PKCE, the code
exchange, id_token/userinfo decoding); this module keeps allauth's session login and redirects out of it,
because the editor needs our JWT cookies and a redirect to the frontend. See docs/AUTH.md.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from allauth.socialaccount.adapter import get_adapter as get_social_adapter
from allauth.socialaccount.models import SocialAccount, SocialApp
from allauth.socialaccount.providers.base import ProviderException
from allauth.socialaccount.providers.google.views import GoogleOAuth2Adapter
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, MultipleObjectsReturned
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from requests import RequestException

from accounts.models import User
from ecg.exceptions import ApplicationError

logger = logging.getLogger(__name__)

PROVIDER_ID = "google"
CALLBACK_PATH = "/api/auth/google/callback"
# The state cookie only travels to the two Google endpoints, and only for as long as a consent page may
# reasonably stay open. It is signed (not stored server-side) so the flow needs no session row.
STATE_COOKIE = "google_oauth_state"
STATE_COOKIE_PATH = "/api/auth/google"
STATE_MAX_AGE = 600
_STATE_SALT = "accounts.google.state"

_STATE_MESSAGE = _("Your Google sign-in expired or could not be verified. Please try again.")
_FAILED_MESSAGE = _("Google sign-in failed. Please try again.")
_NOT_CONFIGURED_MESSAGE = _("Google login is not configured.")


class GoogleLoginError(ApplicationError):
    """A Google login failure; its message is shown to the user on the frontend's callback page."""

    status = 400
    code = "GOOGLE_LOGIN_FAILED"

    def __init__(self, code: str | None = None, message: Any = None) -> None:
        super().__init__(code, message if message is not None else _FAILED_MESSAGE)


@dataclass(frozen=True)
class LoginStart:
    """Where to send the browser, and the signed state cookie that must come back with Google's answer."""

    redirect_url: str
    state_cookie: str


class _CallbackAdapter(GoogleOAuth2Adapter):
    """allauth's Google adapter with our callback URL: allauth's own URLs are not mounted."""

    def get_callback_url(self, request: HttpRequest, app: SocialApp) -> str:
        return callback_url()


def callback_url() -> str:
    """The redirect_uri registered at Google; absolute, because the API may sit behind a proxy."""
    return f"{settings.PUBLIC_BASE_URL}{CALLBACK_PATH}"


def _provider(request: HttpRequest):
    """allauth's Google provider with its app, or ``None`` when no usable client id/secret is configured."""
    try:
        provider = get_social_adapter(request).get_provider(request, PROVIDER_ID)
    except (SocialApp.DoesNotExist, ImproperlyConfigured, MultipleObjectsReturned):
        logger.warning("google login: no single Google app is configured", exc_info=True)
        return None
    if not provider.app.client_id or not provider.app.secret:
        return None
    return provider


def login_start(*, request: HttpRequest) -> LoginStart:
    """Build Google's consent URL with a fresh random state and PKCE challenge."""
    provider = _provider(request)
    if provider is None:
        logger.warning("google login requested but GOOGLE_CLIENT_ID/GOOGLE_CLIENT_SECRET are not set")
        raise GoogleLoginError("GOOGLE_NOT_CONFIGURED", _NOT_CONFIGURED_MESSAGE)
    adapter = _CallbackAdapter(request)
    client = adapter.get_client(request, provider.app)
    client.state = secrets.token_urlsafe(32)
    auth_params = provider.get_auth_params()
    pkce = provider.get_pkce_params()  # {} when OAUTH_PKCE_ENABLED is off
    code_verifier = pkce.pop("code_verifier", None)
    auth_params.update(pkce)
    url = client.get_redirect_url(adapter.authorize_url, provider.get_scope(), auth_params)
    cookie = signing.dumps({"state": client.state, "cv": code_verifier}, salt=_STATE_SALT, compress=True)
    return LoginStart(redirect_url=url, state_cookie=cookie)


def set_state_cookie(response: HttpResponse, value: str) -> None:
    # Lax: the cookie must come back on Google's top-level GET redirect to the callback.
    response.set_cookie(STATE_COOKIE, value, max_age=STATE_MAX_AGE, path=STATE_COOKIE_PATH, httponly=True,
                        samesite="Lax", secure=settings.AUTH_COOKIE_SECURE)


def clear_state_cookie(response: HttpResponse) -> None:
    # One state, one callback: whatever the outcome, the state cannot be replayed.
    response.delete_cookie(STATE_COOKIE, path=STATE_COOKIE_PATH, samesite="Lax")


def _load_state(raw: str | None) -> dict[str, Any]:
    if not raw:
        raise GoogleLoginError("GOOGLE_STATE_INVALID", _STATE_MESSAGE)
    try:
        data = signing.loads(raw, salt=_STATE_SALT, max_age=STATE_MAX_AGE)
    except signing.BadSignature as exc:  # includes SignatureExpired
        raise GoogleLoginError("GOOGLE_STATE_INVALID", _STATE_MESSAGE) from exc
    if not isinstance(data, dict) or not isinstance(data.get("state"), str):
        raise GoogleLoginError("GOOGLE_STATE_INVALID", _STATE_MESSAGE)
    return data


def _fetch_profile(request: HttpRequest, *, code: str, code_verifier: str | None) -> tuple[str, dict]:
    """Exchange the code at Google and read the profile: (Google ``sub``, claims)."""
    provider = _provider(request)
    if provider is None:
        raise GoogleLoginError("GOOGLE_NOT_CONFIGURED", _NOT_CONFIGURED_MESSAGE)
    adapter = _CallbackAdapter(request)
    client = adapter.get_client(request, provider.app)
    try:
        token_data = client.get_access_token(code, pkce_code_verifier=code_verifier)
        # The id_token came straight from Google over TLS, so allauth may skip its signature check
        # (OpenID Connect Core 3.1.3.7); issuer, audience and expiry are still verified.
        adapter.did_fetch_access_token = True
        token = adapter.parse_token(token_data)
        sociallogin = adapter.complete_login(request, provider.app, token, response=token_data)
    except (OAuth2Error, RequestException, ProviderException, ValueError, KeyError) as exc:
        logger.warning("google login: code exchange or profile read failed: %s", exc.__class__.__name__)
        raise GoogleLoginError("GOOGLE_TOKEN_FAILED", _FAILED_MESSAGE) from exc
    return sociallogin.account.uid, dict(sociallogin.account.extra_data or {})


def _display_name(claims: dict) -> str:
    """Google's name, else the email's local part as Google spelled it (username is display-only)."""
    name = str(claims.get("name") or "").strip()
    return (name or str(claims.get("email") or "").strip().split("@")[0])[:150]


def _resolve_user(*, uid: str, claims: dict) -> User:
    """Find or create the user for a Google account; never links to a local (password) account."""
    account = SocialAccount.objects.select_related("user").filter(provider=PROVIDER_ID, uid=uid).first()
    if account is not None:
        # Matched by Google's stable ``sub``: the same user even if the Google email changed since.
        account.extra_data = claims
        account.save(update_fields=["extra_data", "last_login"])
        return account.user

    email = str(claims.get("email") or "").strip().lower()
    if not email or not (claims.get("email_verified") or claims.get("verified_email")):
        raise GoogleLoginError("GOOGLE_EMAIL_UNVERIFIED",
                               _("Your Google account has no verified email address."))

    existing = User.objects.filter(email__iexact=email).first()
    if existing is not None:
        if existing.auth_provider != User.Provider.GOOGLE:
            # Linking would let whoever controls the Google account take over the password account.
            raise GoogleLoginError(
                "GOOGLE_EMAIL_LOCAL_ACCOUNT",
                _("This email is already registered with a password. Please sign in with your email and "
                  "password; Google sign-in is not linked to it automatically."),
            )
        if SocialAccount.objects.filter(user=existing, provider=PROVIDER_ID).exists():
            raise GoogleLoginError("GOOGLE_EMAIL_OTHER_ACCOUNT",
                                   _("This email is already linked to a different Google account."))
        # A Google user without its account row (created before rows were kept, or the row was removed).
        SocialAccount.objects.create(user=existing, provider=PROVIDER_ID, uid=uid, extra_data=claims)
        return existing

    user = User.objects.create_user(email=email, password=None, username=_display_name(claims),
                                    auth_provider=User.Provider.GOOGLE, is_verified=True)
    SocialAccount.objects.create(user=user, provider=PROVIDER_ID, uid=uid, extra_data=claims)
    logger.info("google login: created user %s", user.pk)
    return user


def login_finish(*, request: HttpRequest, params: dict[str, str], state_cookie: str | None) -> User:
    """Check Google's answer against our state, exchange the code, and return the user to log in."""
    google_error = params.get("error")
    if google_error:
        # Checked before the state: a refusal logs nobody in, and its message is the useful one.
        logger.info("google login: Google answered error=%s", google_error[:64])
        if google_error == "access_denied":
            raise GoogleLoginError("GOOGLE_CANCELLED", _("Google sign-in was cancelled."))
        raise GoogleLoginError("GOOGLE_ERROR", _FAILED_MESSAGE)

    saved = _load_state(state_cookie)
    # Bytes: compare_digest refuses non-ASCII str, and the query string is attacker-controlled.
    if not secrets.compare_digest(saved["state"].encode(), (params.get("state") or "").encode()):
        logger.warning("google login: state mismatch")
        raise GoogleLoginError("GOOGLE_STATE_INVALID", _STATE_MESSAGE)
    code = params.get("code")
    if not code:
        raise GoogleLoginError("GOOGLE_ERROR", _FAILED_MESSAGE)
    # One use: the browser deletes the cookie after the callback, but a copied cookie and callback URL
    # would otherwise work again until the state expires. The shared cache remembers used states as long.
    used_key = "google-state-used:" + hashlib.sha256(saved["state"].encode()).hexdigest()
    if not cache.add(used_key, 1, timeout=STATE_MAX_AGE):
        logger.warning("google login: a used state came back")
        raise GoogleLoginError("GOOGLE_STATE_INVALID", _STATE_MESSAGE)

    uid, claims = _fetch_profile(request, code=code, code_verifier=saved.get("cv"))
    try:
        with transaction.atomic():
            user = _resolve_user(uid=uid, claims=claims)
    except IntegrityError:
        # Lost a race with a parallel first login of the same Google account: that one created the rows.
        with transaction.atomic():
            user = _resolve_user(uid=uid, claims=claims)
    if not user.is_active:
        raise GoogleLoginError("ACCOUNT_INACTIVE", _("This account is inactive."))
    logger.info("google login: user %s logged in", user.pk)
    return user
