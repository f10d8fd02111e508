"""Render endpoints (API.md section 4; camelCase; errors in the render shape by path)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.throttling import UserRateThrottle
from rest_framework.views import APIView

from rendering import selectors, services


class RenderCreateSerializer(serializers.Serializer):
    videoUrl = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=4096)  # noqa: N815
    fileKey = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=512)  # noqa: N815
    jobId = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=64)  # noqa: N815
    scenario = serializers.DictField()
    options = serializers.DictField(required=False, allow_null=True)


class RenderCreateThrottle(UserRateThrottle):
    scope = "render_create"


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


class RenderStatusView(APIView):
    def get(self, request, job_id):
        job = selectors.job_get(user=request.user, job_id=job_id)
        return Response(selectors.status_payload(job))


class RenderCancelView(APIView):
    def post(self, request, job_id):
        job = selectors.job_get(user=request.user, job_id=job_id)
        success = services.render_cancel(job=job)
        message = _("The render was cancelled.") if success else _("The render has already finished.")
        return Response({"success": success, "message": message})


class RenderHistoryView(APIView):
    def get(self, request):
        try:
            limit = int(request.query_params.get("limit", 10))
        except ValueError:
            limit = 10
        return Response(selectors.history(user=request.user, limit=max(1, min(100, limit))))


class RenderQuotaView(APIView):
    def get(self, request):
        return Response(selectors.quota_payload(user=request.user))
