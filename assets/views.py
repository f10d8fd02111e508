"""API.md section 7: the asset store list, favorites (new and legacy), and the plugin origin.

Thin views: reads in `selectors`, writes in `services`. Writes need auth; cookie-authenticated writes
follow the Origin rule of `accounts.authentication`.
"""

from __future__ import annotations

import hashlib
import mimetypes

from django.core.files.storage import default_storage
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from assets import selectors, services
from assets.serializers import (
    AssetListQuerySerializer,
    AssetListSerializer,
    AssetSerializer,
    FavoriteStateSerializer,
    LegacyFavoriteListSerializer,
    LegacyFavoriteRequestSerializer,
    LegacyFavoriteSerializer,
    LegacyMessageSerializer,
    LegacyToggleSerializer,
)
from ecg.exceptions import error_response
from ecg.schema import ErrorSerializer

_KEY = OpenApiParameter("plugin_key", str, OpenApiParameter.PATH,
                        description="name@version, URL-encoded by the editor (rotation%402.0.0)")


def _assets(rows) -> Response:
    return Response({"assets": AssetSerializer(rows, many=True).data})


@extend_schema(tags=["assets"], summary="Published caption animations (anonymous allowed)",
               parameters=[AssetListQuerySerializer], responses={
                   200: AssetListSerializer, 422: OpenApiResponse(ErrorSerializer, "Unknown category or is_pro")})
class AssetListView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        query = AssetListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        rows = selectors.asset_list(user=request.user, category=query.validated_data.get("category"),
                                    is_pro=query.validated_data.get("is_pro"))
        return _assets(rows)


@extend_schema(tags=["assets"], summary="The caller's favorite animations", responses={200: AssetListSerializer})
class FavoriteAssetsView(APIView):
    def get(self, request):
        return _assets(selectors.favorite_assets(user=request.user))


@extend_schema(tags=["assets"], parameters=[_KEY], request=None, responses={200: FavoriteStateSerializer})
class AssetFavoriteView(APIView):
    """POST adds, DELETE removes; both idempotent. The editor sends no body (with a JSON content type)."""

    def _answer(self, request, plugin_key: str, favorite: bool) -> Response:
        state = services.favorite_set(user=request.user, plugin_key=plugin_key, favorite=favorite)
        return Response({"isFavorite": state, "likes": selectors.likes_of(plugin_key)})

    @extend_schema(summary="Favorite an animation")
    def post(self, request, plugin_key: str):
        return self._answer(request, plugin_key, True)

    @extend_schema(summary="Unfavorite an animation")
    def delete(self, request, plugin_key: str):
        return self._answer(request, plugin_key, False)


def _legacy_row(fav) -> dict:
    return LegacyFavoriteSerializer({"id": fav.pk, "user_id": fav.user_id, "plugin_key": fav.plugin_key,
                                     "created_at": fav.created_at, "updated_at": fav.updated_at}).data


@extend_schema(tags=["assets"])
class LegacyFavoritesView(APIView):
    """The editor's older favorites API (defined there, unused by its UI): kept compatible."""

    @extend_schema(summary="The caller's favorites (legacy)", responses={200: LegacyFavoriteListSerializer})
    def get(self, request):
        rows = [_legacy_row(f) for f in selectors.favorites_of(user=request.user)]
        return Response({"favorites": rows, "total": len(rows)})

    @extend_schema(summary="Add a favorite (legacy)", request=LegacyFavoriteRequestSerializer, responses={
        201: LegacyFavoriteSerializer, 404: OpenApiResponse(ErrorSerializer, "No published animation has this key")})
    def post(self, request):
        key = self._key(request)
        services.favorite_set(user=request.user, plugin_key=key, favorite=True)
        return Response(_legacy_row(selectors.favorites_of(user=request.user).get(plugin_key=key)), status=201)

    @extend_schema(summary="Remove a favorite (legacy)", request=LegacyFavoriteRequestSerializer, responses={
        200: LegacyMessageSerializer, 400: OpenApiResponse(ErrorSerializer, "The body is not valid JSON"),
        415: OpenApiResponse(ErrorSerializer, "Unsupported Content-Type"),
        422: OpenApiResponse(ErrorSerializer, "plugin_key missing")})
    def delete(self, request):
        services.favorite_set(user=request.user, plugin_key=self._key(request), favorite=False)
        return Response({"is_favorite": False, "message": _("Removed from favorites.")})

    @staticmethod
    def _key(request) -> str:
        body = LegacyFavoriteRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return body.validated_data["plugin_key"]


@extend_schema(tags=["assets"], summary="Toggle a favorite (legacy)", request=LegacyFavoriteRequestSerializer,
               responses={200: LegacyToggleSerializer,
                          404: OpenApiResponse(ErrorSerializer, "Adding: no published animation has this key")})
class LegacyFavoriteToggleView(APIView):
    def post(self, request):
        key = LegacyFavoritesView._key(request)
        state = services.favorite_toggle(user=request.user, plugin_key=key)
        message = _("Added to favorites.") if state else _("Removed from favorites.")
        return Response({"is_favorite": state, "message": message})


# --- the plugin origin ------------------------------------------------------------------------------
IMMUTABLE = "public, max-age=31536000, immutable"
# Files of a plugin are code and images, never documents: opened directly they run nothing.
PLUGIN_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox"
_TYPES = {".mjs": "text/javascript", ".js": "text/javascript", ".json": "application/json", ".svg": "image/svg+xml",
          ".css": "text/css", ".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf", ".otf": "font/otf"}


def _content_type(path: str) -> str:
    suffix = "." + path.rsplit(".", 1)[-1].lower() if "." in path else ""
    ctype = _TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"
    return f"{ctype}; charset=utf-8" if ctype.startswith("text/") or ctype == "application/json" else ctype


@require_safe
def plugin_file(request, plugin_key: str, path: str):
    """`/plugins/{name@version}/{file}`: a published animation's files, immutable per version."""
    animation = selectors.get_animation(plugin_key)
    found = selectors.plugin_file(animation, path) if animation is not None else None
    if found is None:
        return error_response(request, "NOT_FOUND", _("No such plugin file."), 404)
    if found.local is not None:
        data = found.local.read_bytes()
    else:
        with default_storage.open(found.storage_key, "rb") as fh:
            data = fh.read()
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    if etag in [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(data, content_type=_content_type(path))
    response["ETag"] = etag
    response["Cache-Control"] = IMMUTABLE
    response["Content-Security-Policy"] = PLUGIN_CSP
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
