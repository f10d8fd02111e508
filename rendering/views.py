"""Render endpoints (API.md section 4; camelCase; errors in the render shape by path)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from ecg.http import ClientIpUserThrottle
from ecg.schema import RenderErrorSerializer
from rendering import selectors, services
from rendering.serializers import (
    RenderCancelResponseSerializer,
    RenderCreateRequestSerializer,
    RenderCreateResponseSerializer,
    RenderCreateSerializer,
    RenderHistoryItemSerializer,
    RenderQuotaResponseSerializer,
    RenderStatusResponseSerializer,
)

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
        return Response(RenderCreateResponseSerializer(job).data)


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
        return Response(RenderCancelResponseSerializer(services.render_cancel(job=job)).data)


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
