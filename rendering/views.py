"""Render endpoints (API.md section 4; camelCase; errors in the render shape by path)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from ecg.http import ClientIpUserThrottle
from ecg.schema import RenderErrorSerializer
from rendering import selectors, services


class RenderCreateSerializer(serializers.Serializer):
    videoUrl = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=4096)  # noqa: N815
    fileKey = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=512)  # noqa: N815
    jobId = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=64)  # noqa: N815
    scenario = serializers.DictField()
    options = serializers.DictField(required=False, allow_null=True)


# --- response shapes (schema only; API.md 4, camelCase) ---------------------------------------------
class RenderOptionsSerializer(serializers.Serializer):
    width = serializers.IntegerField(required=False, min_value=16, max_value=3840, help_text="Even; default: source")
    height = serializers.IntegerField(required=False, min_value=16, max_value=2160, help_text="Even; default: source")
    fps = serializers.FloatField(required=False, min_value=1, max_value=60, help_text="Default: source fps")
    quality = serializers.IntegerField(required=False, min_value=1, max_value=100, default=90)
    format = serializers.ChoiceField(choices=["mp4", "mov", "webm"], required=False, default="mp4")


@extend_schema_serializer(component_name="RenderCreate")
class RenderCreateRequestSerializer(RenderCreateSerializer):
    """Schema only: the body as documented (the view validates ``options`` and ``scenario`` itself)."""

    scenario = serializers.DictField(help_text="MotionText scenario, version 2.0 or 1.3")
    options = RenderOptionsSerializer(required=False, allow_null=True)


class SourceVideoSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    filename = serializers.CharField()


class RenderCreateResponseSerializer(serializers.Serializer):
    jobId = serializers.UUIDField()  # noqa: N815 (wire name)
    status = serializers.ChoiceField(choices=["queued"])
    estimatedTime = serializers.IntegerField(help_text="Seconds")  # noqa: N815
    createdAt = serializers.DateTimeField()  # noqa: N815
    sourceVideo = SourceVideoSerializer()  # noqa: N815


_RENDER_STATUSES = ["queued", "processing", "completed", "failed", "cancelled"]


class RenderStatusResponseSerializer(serializers.Serializer):
    jobId = serializers.UUIDField()  # noqa: N815
    status = serializers.ChoiceField(choices=_RENDER_STATUSES)
    progress = serializers.IntegerField(min_value=0, max_value=100)
    estimatedTimeRemaining = serializers.IntegerField(help_text="Seconds")  # noqa: N815
    startedAt = serializers.DateTimeField(allow_null=True)  # noqa: N815
    completedAt = serializers.DateTimeField(allow_null=True)  # noqa: N815
    downloadUrl = serializers.URLField(allow_null=True, help_text="Fresh, expiring; only when completed")  # noqa: N815
    error = serializers.CharField(allow_null=True)
    errorCode = serializers.CharField(allow_null=True)  # noqa: N815
    fileSize = serializers.IntegerField(allow_null=True)  # noqa: N815
    duration = serializers.FloatField(allow_null=True)


class RenderCancelResponseSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    message = serializers.CharField()


class RenderHistoryItemSerializer(serializers.Serializer):
    jobId = serializers.UUIDField()  # noqa: N815
    videoName = serializers.CharField()  # noqa: N815
    status = serializers.ChoiceField(choices=_RENDER_STATUSES)
    createdAt = serializers.DateTimeField()  # noqa: N815
    completedAt = serializers.DateTimeField(allow_null=True)  # noqa: N815
    downloadUrl = serializers.URLField(allow_null=True)  # noqa: N815
    fileSize = serializers.IntegerField(allow_null=True)  # noqa: N815
    duration = serializers.FloatField(allow_null=True)


class QuotaWindowSerializer(serializers.Serializer):
    used = serializers.IntegerField()
    limit = serializers.IntegerField()
    resetsAt = serializers.DateTimeField()  # noqa: N815


class QuotaConcurrentSerializer(serializers.Serializer):
    used = serializers.IntegerField()
    limit = serializers.IntegerField()


class RenderQuotaResponseSerializer(serializers.Serializer):
    daily = QuotaWindowSerializer()
    monthly = QuotaWindowSerializer()
    concurrent = QuotaConcurrentSerializer()


_JOB_ID = OpenApiParameter("job_id", str, OpenApiParameter.PATH, description="Render job id (UUID)")


class RenderCreateThrottle(ClientIpUserThrottle):
    scope = "render_create"


@extend_schema(tags=["render"], summary="Queue a render of a MotionText scenario over a source video",
               request=RenderCreateRequestSerializer, responses={
    200: RenderCreateResponseSerializer,
    400: OpenApiResponse(RenderErrorSerializer, "RENDER_INVALID_INPUT (details lists every problem)"),
    403: OpenApiResponse(RenderErrorSerializer, "RENDER_QUOTA_DAILY_EXCEEDED / RENDER_QUOTA_MONTHLY_EXCEEDED"),
    429: OpenApiResponse(RenderErrorSerializer, "RENDER_QUOTA_CONCURRENT_EXCEEDED / RENDER_RATE_LIMIT_EXCEEDED")})
class RenderCreateView(APIView):
    throttle_classes = [RenderCreateThrottle]

    def post(self, request):
        serializer = RenderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        job = services.render_create(user=request.user, scenario=data["scenario"], options=data.get("options") or {},
                                     file_key=data.get("fileKey") or None, job_id=data.get("jobId") or None,
                                     video_url=data.get("videoUrl") or None)
        return Response({"jobId": str(job.pk), "status": job.status, "estimatedTime": round(job.estimated_seconds or 0),
                         "createdAt": job.created_at.isoformat(),
                         "sourceVideo": {"id": job.video_id, "filename": job.video.original_filename}})


@extend_schema(tags=["render"], summary="Render job status", parameters=[_JOB_ID],
               responses={200: RenderStatusResponseSerializer})
class RenderStatusView(APIView):
    def get(self, request, job_id):
        job = selectors.job_get(user=request.user, job_id=job_id)
        return Response(selectors.status_payload(job))


@extend_schema(tags=["render"], summary="Cancel a render", parameters=[_JOB_ID], request=None,
               responses={200: RenderCancelResponseSerializer})
class RenderCancelView(APIView):
    def post(self, request, job_id):
        job = selectors.job_get(user=request.user, job_id=job_id)
        success = services.render_cancel(job=job)
        message = _("The render was cancelled.") if success else _("The render has already finished.")
        return Response({"success": success, "message": message})


@extend_schema(tags=["render"], summary="Recent renders, newest first",
               parameters=[OpenApiParameter("limit", int, default=10, description="1-100")],
               responses={200: RenderHistoryItemSerializer(many=True)})
class RenderHistoryView(APIView):
    def get(self, request):
        try:
            limit = int(request.query_params.get("limit", 10))
        except ValueError:
            limit = 10
        return Response(selectors.history(user=request.user, limit=max(1, min(100, limit))))


@extend_schema(tags=["render"], summary="Render quota usage", responses={200: RenderQuotaResponseSerializer})
class RenderQuotaView(APIView):
    def get(self, request):
        return Response(selectors.quota_payload(user=request.user))
