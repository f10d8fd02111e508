"""Upload URL, the signed local upload PUT, signed local downloads, and the videos API (API.md 2, 3)."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from ecg.exceptions import ApplicationError, error_response
from ecg.http import ClientIpUserThrottle
from uploads import selectors, services, storage
from uploads.bodies import SCOPE_KEY
from uploads.serializers import (
    GenerateUrlResponseSerializer,
    GenerateUrlSerializer,
    VideoDeletedSerializer,
    VideoDetailSerializer,
    VideoMetadataSerializer,
    VideoSerializer,
)

_VIDEO_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="Video id")


class UploadUrlThrottle(ClientIpUserThrottle):
    scope = "upload_url"


@extend_schema(tags=["upload-video"], summary="Create a video and a signed URL to PUT its file to",
               request=GenerateUrlSerializer, responses={200: GenerateUrlResponseSerializer})
class GenerateUploadUrlView(APIView):
    throttle_classes = [UploadUrlThrottle]

    def post(self, request):
        serializer = GenerateUrlSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(GenerateUrlResponseSerializer(
            services.upload_url_create(user=request.user, **serializer.validated_data)).data)


@csrf_exempt
@require_http_methods(["PUT"])
def upload_put(request: HttpRequest, token: str):
    """The signed local upload target: the URL is the credential, so no auth header or cookie is used.

    Under ASGI the body was already checked and streamed by ``uploads.bodies`` (outcome in the scope);
    servers that hand the view an unbuffered stream (WSGI, the test client) run the same steps here.
    """
    outcome = (getattr(request, "scope", None) or {}).get(SCOPE_KEY)
    try:
        if outcome is None:
            length = request.META.get("CONTENT_LENGTH")
            video = services.upload_receive(token=token, content_type=request.META.get("CONTENT_TYPE", ""),
                                            content_length=int(length) if length else None, stream=request)
        elif "error" in outcome:
            raise outcome["error"]
        else:
            video = services.upload_complete(video=outcome["video"], upload=outcome["upload"])
    except ApplicationError as exc:
        return error_response(request, exc.code, exc.message, exc.status, exc.details)
    return JsonResponse({"success": True, "file_key": video.key, "fileKey": video.key, "size": video.size,
                         "status": video.status})


@require_http_methods(["GET", "HEAD"])
def file_download(request: HttpRequest, token: str):
    """Signed, expiring local download; served as an attachment named after the source video."""
    try:
        claims = storage.read_download_token(token)
        path = storage.local_path(claims["k"])
    except Exception:
        return error_response(request, "DOWNLOAD_URL_INVALID", _("The download link is invalid or has expired."),
                              403)
    if not path.is_file():
        return error_response(request, "NOT_FOUND", _("Not found."), 404)
    return FileResponse(path.open("rb"), as_attachment=True, filename=claims.get("f") or path.name)


@extend_schema_view(
    list=extend_schema(tags=["videos"], summary="The caller's videos, newest first"),
    retrieve=extend_schema(tags=["videos"], summary="One video with its jobs", parameters=[_VIDEO_ID],
                           responses={200: VideoDetailSerializer}),
    metadata=extend_schema(tags=["videos"], summary="Probed media metadata (camelCase)", parameters=[_VIDEO_ID],
                           responses={200: VideoMetadataSerializer}),
    destroy=extend_schema(tags=["videos"], summary="Delete the video, its files and derived files",
                          parameters=[_VIDEO_ID], responses={200: VideoDeletedSerializer}),
)
class VideoViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin,
                   viewsets.GenericViewSet):
    serializer_class = VideoSerializer

    def get_queryset(self):
        return selectors.videos_of(self.request.user)

    def get_object(self):
        return selectors.video_get(user=self.request.user, video_id=self.kwargs["pk"])

    def retrieve(self, request, *args, **kwargs):
        video = services.video_ensure_probed(self.get_object())
        return Response(VideoDetailSerializer(video).data)

    @action(detail=True, methods=["get"])
    def metadata(self, request, pk=None):
        video = services.video_ensure_probed(self.get_object())
        return Response(VideoMetadataSerializer(video).data)

    def destroy(self, request, *args, **kwargs):
        video = self.get_object()
        video_id = video.pk
        services.video_delete(video=video)
        return Response(VideoDeletedSerializer({"success": True, "id": video_id,
                                                "message": _("The video was deleted.")}).data)
