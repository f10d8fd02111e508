"""Upload URL, the signed local upload PUT, signed local downloads, and the videos API (API.md 2, 3)."""

from __future__ import annotations

from django.http import FileResponse, HttpRequest, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from ecg.exceptions import ApplicationError, error_response
from ecg.jobs import job_kinds
from uploads import selectors, services, storage
from uploads.serializers import GenerateUrlSerializer, VideoMetadataSerializer, VideoSerializer


class GenerateUrlResponseSerializer(serializers.Serializer):
    """Schema only: the three URL fields are equal, and so are the two key fields."""

    upload_url = serializers.URLField()
    presigned_url = serializers.URLField()
    url = serializers.URLField()
    file_key = serializers.CharField()
    fileKey = serializers.CharField()  # noqa: N815 (wire name)
    expires_in = serializers.IntegerField(help_text="Seconds")
    expires_at = serializers.DateTimeField()
    content_type = serializers.CharField(help_text="The Content-Type the upload URL was signed for")


class VideoJobSerializer(serializers.Serializer):
    """Schema only: one job that used the video."""

    job_id = serializers.UUIDField()
    type = serializers.ChoiceField(choices=["transcription", "render"])
    status = serializers.ChoiceField(choices=["queued", "processing", "completed", "failed", "cancelled"])
    progress = serializers.IntegerField(min_value=0, max_value=100)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class VideoDetailSerializer(VideoSerializer):
    """Schema only: one video with its jobs, newest first."""

    jobs = VideoJobSerializer(many=True)

    class Meta(VideoSerializer.Meta):
        fields = [*VideoSerializer.Meta.fields, "jobs"]
        read_only_fields = fields


class VideoDeletedSerializer(serializers.Serializer):
    """Schema only."""

    success = serializers.BooleanField()
    id = serializers.IntegerField()
    message = serializers.CharField()


_VIDEO_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="Video id")


class UploadUrlThrottle(UserRateThrottle):
    scope = "upload_url"


@extend_schema(tags=["upload-video"], summary="Create a video and a signed URL to PUT its file to",
               request=GenerateUrlSerializer, responses={200: GenerateUrlResponseSerializer})
class GenerateUploadUrlView(APIView):
    throttle_classes = [UploadUrlThrottle]

    def post(self, request):
        serializer = GenerateUrlSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(services.upload_url_create(user=request.user, **serializer.validated_data))


@csrf_exempt
@require_http_methods(["PUT"])
def upload_put(request: HttpRequest, token: str):
    """The signed local upload target: the URL is the credential, so no auth header or cookie is used."""
    length = request.META.get("CONTENT_LENGTH")
    try:
        video = services.upload_receive(token=token, content_type=request.META.get("CONTENT_TYPE", ""),
                                        content_length=int(length) if length else None, stream=request)
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
        data = VideoSerializer(video).data
        data["jobs"] = _jobs_of(video)
        return Response(data)

    @action(detail=True, methods=["get"])
    def metadata(self, request, pk=None):
        video = services.video_ensure_probed(self.get_object())
        return Response(VideoMetadataSerializer(video).data)

    def destroy(self, request, *args, **kwargs):
        video = self.get_object()
        video_id = video.pk
        services.video_delete(video=video)
        return Response({"success": True, "id": video_id, "message": _("The video was deleted.")})


def _jobs_of(video) -> list[dict]:
    """Summaries of the jobs that used this video (every registered kind made from a video), newest first."""
    jobs: list[dict] = []
    for kind in job_kinds():
        if not kind.video_field:
            continue
        for job in kind.model.objects.filter(**{kind.video_field: video}).order_by("-created_at")[:50]:
            jobs.append({"job_id": str(job.pk), "type": kind.name, "status": job.status, "progress": job.progress,
                         "created_at": job.created_at.isoformat(),
                         "finished_at": job.finished_at.isoformat() if job.finished_at else None})
    return sorted(jobs, key=lambda j: j["created_at"], reverse=True)
