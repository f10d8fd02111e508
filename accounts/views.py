"""Auth endpoints (API.md section 1). Thin: parse, call a service, shape the response."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.authentication import ACCESS_COOKIE, REFRESH_COOKIE, enforce_origin
from accounts.serializers import (
    AuthResponseSerializer,
    LoginSerializer,
    MessageResponseSerializer,
    RefreshSerializer,
    SignupSerializer,
    TokenResponseSerializer,
    UserSerializer,
)
from ecg.http import ClientIpAnonThrottle, client_ip
from ecg.schema import ErrorSerializer


class AuthThrottle(ClientIpAnonThrottle):
    scope = "auth"


def _auth_response(user, tokens: services.TokenPair, status: int) -> Response:
    response = Response(AuthResponseSerializer({"tokens": tokens, "user": user}).data, status=status)
    services.set_auth_cookies(response, tokens)
    return response


class PublicAuthView(APIView):
    """No authentication: a stale cookie must never block signing in again."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AuthThrottle]


@extend_schema(tags=["auth"], summary="Create a local account and log in", description="",
               request=SignupSerializer, responses={
    201: AuthResponseSerializer, 409: OpenApiResponse(ErrorSerializer, "Email already registered")})
class SignupView(PublicAuthView):
    def post(self, request):
        serializer = SignupSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user, tokens = services.user_signup(**serializer.validated_data)
        return _auth_response(user, tokens, 201)


@extend_schema(tags=["auth"], summary="Log in with email and password", description="",
               request=LoginSerializer, responses={
    200: AuthResponseSerializer, 401: OpenApiResponse(ErrorSerializer, "Wrong email or password"),
    403: OpenApiResponse(ErrorSerializer, "Inactive account")})
class LoginView(PublicAuthView):
    def post(self, request):
        serializer = LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user, tokens = services.user_login(**serializer.validated_data, ip=client_ip(request))
        return _auth_response(user, tokens, 200)


@extend_schema(tags=["auth"], summary="New access token; rotates the refresh token (cookie or body)", description="",
               request=RefreshSerializer, responses={
    200: TokenResponseSerializer, 401: OpenApiResponse(ErrorSerializer, "Missing, invalid or revoked refresh token"),
    403: OpenApiResponse(ErrorSerializer, "Cookie refresh from an origin outside the allow-list")})
class RefreshView(PublicAuthView):
    def post(self, request):
        serializer = RefreshSerializer(data=request.data or {})
        serializer.is_valid(raise_exception=True)
        raw = serializer.validated_data.get("refresh_token")
        if not raw:
            raw = request.COOKIES.get(REFRESH_COOKIE)
            enforce_origin(request)  # the cookie travels by itself: same CSRF defence as other writes
        tokens = services.token_refresh(raw_refresh=raw)
        response = Response(TokenResponseSerializer(tokens).data)
        services.set_auth_cookies(response, tokens)
        return response


def _presented_access_token(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if header.startswith("Bearer "):
        return header[len("Bearer "):].strip()
    return request.COOKIES.get(ACCESS_COOKIE)


@extend_schema(tags=["auth"], summary="Log out: revoke the refresh and access tokens and clear both cookies",
               description="With cookies, the request must come from an allowed origin (403 ORIGIN_NOT_ALLOWED).",
               request=RefreshSerializer, responses={200: MessageResponseSerializer,
                                                     403: OpenApiResponse(ErrorSerializer, "Foreign origin")})
class LogoutView(PublicAuthView):
    def post(self, request):
        if REFRESH_COOKIE in request.COOKIES or ACCESS_COOKIE in request.COOKIES:
            enforce_origin(request)  # cookies travel by themselves: a foreign page must not log the user out
        body = request.data if isinstance(request.data, dict) else {}  # a JSON array or string is no body
        raw = request.COOKIES.get(REFRESH_COOKIE) or body.get("refresh_token")
        services.token_revoke(raw_refresh=raw, raw_access=_presented_access_token(request))
        response = Response(MessageResponseSerializer({"message": _("Logged out.")}).data)
        services.clear_auth_cookies(response)
        return response


@extend_schema(tags=["auth"], summary="The current user", responses={200: UserSerializer})
class MeView(APIView):
    def get(self, request):
        return Response(UserSerializer(request.user).data)
