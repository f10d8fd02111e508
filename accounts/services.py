"""Account flows: signup, login (with failure throttling), token issue/refresh/revoke, auth cookies."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.authentication import ACCESS_COOKIE, REFRESH_COOKIE, revoke_access_token
from accounts.login_throttle import LoginAttempt, LoginBlocked
from ecg.exceptions import ApplicationError, ConflictError, ValidationFailed

logger = logging.getLogger(__name__)
User = get_user_model()
REFRESH_COOKIE_PATH = "/api/auth"


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


class InvalidCredentials(ApplicationError):
    status = 401
    code = "INVALID_CREDENTIALS"


def issue_tokens(user) -> TokenPair:
    refresh = RefreshToken.for_user(user)
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


def user_signup(*, username: str, email: str, password: str) -> tuple[User, TokenPair]:
    email = email.strip().lower()
    if User.objects.filter(email__iexact=email).exists():
        raise ConflictError("EMAIL_EXISTS", _("This email is already registered."))
    candidate = User(username=username, email=email)
    try:
        validate_password(password, user=candidate)
    except DjangoValidationError as exc:
        raise ValidationFailed(details={"fields": {"password": list(exc.messages)}}) from exc
    user = User(username=User.normalize_username(username), email=email, auth_provider=User.Provider.LOCAL)
    # The hash takes about a second of CPU: outside the write transaction, which on SQLite holds the one
    # database write lock (concurrent signups hashing inside it made other writes time out: a 500).
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # lost a race with an identical signup
        raise ConflictError("EMAIL_EXISTS", _("This email is already registered.")) from exc
    logger.info("user %s signed up", user.pk)
    return user, issue_tokens(user)


def _rate_limited(retry_after: int) -> ApplicationError:
    return ApplicationError("RATE_LIMITED", _("Too many failed login attempts. Please try again later."),
                            status=429, headers={"Retry-After": str(retry_after)})


def user_login(*, email: str, password: str, ip: str) -> tuple[User, TokenPair]:
    """Check the password; the same 401 message and the same cost for an unknown email and a wrong password.

    Limits (``accounts.login_throttle``): per email+IP and per IP, counted before the password is checked.
    """
    try:
        attempt = LoginAttempt(email=email, ip=ip)
    except LoginBlocked as exc:
        logger.warning("login blocked for %s s from %s", exc.retry_after, ip)
        raise _rate_limited(exc.retry_after) from None
    user = User.objects.filter(email__iexact=email.strip()).first()
    if user is None or not user.has_usable_password():
        # Hash the password anyway: answering without a hash would tell an unknown email by its speed.
        make_password(password)
        user = None
    elif not user.check_password(password):
        user = None
    if user is None:
        logger.info("login failed from %s", ip)
        raise InvalidCredentials(message=_("Incorrect email or password."))
    attempt.succeeded()
    if not user.is_active:
        raise ApplicationError("ACCOUNT_INACTIVE", _("This account is inactive."), status=403)
    logger.info("user %s logged in from %s", user.pk, ip)
    return user, issue_tokens(user)


def token_refresh(*, raw_refresh: str | None) -> TokenPair:
    """Rotate: a new access and refresh token; the old refresh token is blacklisted."""
    if not raw_refresh:
        raise InvalidCredentials("INVALID_TOKEN", _("The refresh token is missing."))
    serializer = TokenRefreshSerializer(data={"refresh": raw_refresh})
    try:
        serializer.is_valid(raise_exception=True)
    except Exception as exc:  # TokenError/InvalidToken/ValidationError/inactive user all mean 401 here
        raise InvalidCredentials("INVALID_TOKEN", _("The refresh token is invalid or expired.")) from exc
    data = serializer.validated_data
    return TokenPair(access=data["access"], refresh=data.get("refresh", raw_refresh))


def token_revoke(*, raw_refresh: str | None, raw_access: str | None = None) -> None:
    """Logout: blacklist the refresh token and refuse the access token for the rest of its lifetime."""
    revoke_access_token(raw_access)
    if not raw_refresh:
        return
    try:
        RefreshToken(raw_refresh).blacklist()
    except TokenError:
        pass  # already invalid: nothing to revoke


def set_auth_cookies(response: HttpResponse, tokens: TokenPair) -> None:
    jwt = settings.SIMPLE_JWT
    common = {"httponly": True, "samesite": "Lax", "secure": settings.AUTH_COOKIE_SECURE,
              "domain": settings.AUTH_COOKIE_DOMAIN}
    response.set_cookie(ACCESS_COOKIE, tokens.access, path="/",
                        max_age=int(jwt["ACCESS_TOKEN_LIFETIME"].total_seconds()), **common)
    response.set_cookie(REFRESH_COOKIE, tokens.refresh, path=REFRESH_COOKIE_PATH,
                        max_age=int(jwt["REFRESH_TOKEN_LIFETIME"].total_seconds()), **common)


def clear_auth_cookies(response: HttpResponse) -> None:
    response.delete_cookie(ACCESS_COOKIE, path="/", domain=settings.AUTH_COOKIE_DOMAIN, samesite="Lax")
    response.delete_cookie(REFRESH_COOKIE, path=REFRESH_COOKIE_PATH, domain=settings.AUTH_COOKIE_DOMAIN,
                           samesite="Lax")
