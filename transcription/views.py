"""Transcription endpoints (API.md section 2): request-process, status, cancel, export, legacy results."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from ecg.exceptions import ApplicationError
from ecg.http import ClientIpUserThrottle
from ecg.jobs import JobStatus
from ecg.schema import ErrorSerializer
from transcription import exports, selectors, services
from transcription.labels import STAGE_LABELS
from transcription.serializers import (
    CancelResponseSerializer,
    LegacyResultSerializer,
    RequestProcessResponseSerializer,
    RequestProcessSerializer,
    StatusResponseSerializer,
)

_JOB_ID = OpenApiParameter("job_id", str, OpenApiParameter.PATH, description="Transcription job id (UUID)")


class TranscriptionRequestThrottle(ClientIpUserThrottle):
    scope = "transcription_request"


@extend_schema(tags=["upload-video"], summary="Start transcribing an uploaded file (or get the identical running job)",
               request=RequestProcessSerializer, responses={
    200: RequestProcessResponseSerializer, 404: OpenApiResponse(ErrorSerializer, "FILE_NOT_FOUND"),
    409: OpenApiResponse(ErrorSerializer, "FILE_NOT_UPLOADED"),
    400: OpenApiResponse(ErrorSerializer, "MEDIA_INVALID, NO_AUDIO_STREAM, MEDIA_TOO_LONG or invalid JSON")})
class RequestProcessView(APIView):
    throttle_classes = [TranscriptionRequestThrottle]

    def post(self, request):
        serializer = RequestProcessSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        job, created = services.transcription_request(user=request.user, file_key=serializer.validated_data["fileKey"],
                                                      language=serializer.validated_data.get("language"))
        return Response(RequestProcessResponseSerializer(job, context={"created": created}).data)


@extend_schema(tags=["upload-video"], summary="Transcription job status (the transcript once completed)",
               parameters=[_JOB_ID], responses={200: StatusResponseSerializer})
class StatusView(APIView):
    def get(self, request, job_id):
        job = selectors.job_get(user=request.user, job_id=job_id)
        return Response(selectors.status_payload(job))


@extend_schema(tags=["upload-video"], summary="Cancel a transcription job", parameters=[_JOB_ID], request=None,
               responses={200: CancelResponseSerializer})
class CancelView(APIView):
    def post(self, request, job_id):
        job = selectors.job_get(user=request.user, job_id=job_id)
        cancelled = services.transcription_cancel(job=job)
        return Response(CancelResponseSerializer(job, context={"cancelled": cancelled}).data)


@extend_schema(tags=["upload-video"], summary="The finished transcript as a subtitle file", parameters=[
    _JOB_ID, OpenApiParameter("format", str, enum=["srt", "vtt", "ass", "json"], default="srt")], responses={
    (200, "application/x-subrip"): OpenApiResponse(bytes, "The transcript as a subtitle file (attachment)"),
    (200, "text/vtt"): bytes, (200, "text/x-ssa"): bytes, (200, "application/json"): bytes,
    409: OpenApiResponse(ErrorSerializer, "JOB_NOT_COMPLETED"),
    422: OpenApiResponse(ErrorSerializer, "INVALID_FORMAT")})
class ExportView(APIView):
    def get(self, request, job_id):
        fmt = (request.query_params.get("format") or "srt").lower()
        if fmt not in exports.FORMATS:
            raise ApplicationError("INVALID_FORMAT", _("Unsupported export format."), status=422,
                                   details={"fields": {"format": ["srt, vtt, ass, json"]}})
        job = selectors.job_get(user=request.user, job_id=job_id, with_result=True)
        if job.status != JobStatus.COMPLETED:
            raise ApplicationError("JOB_NOT_COMPLETED", _("The job has not finished yet."), status=409)
        content_type, ext = exports.FORMATS[fmt]
        stem = job.video.original_filename.rsplit(".", 1)[0] if job.video_id else "transcript"
        response = HttpResponse(exports.export(job.result, fmt), content_type=f"{content_type}; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{stem}.{ext}"'
        return response


@extend_schema(tags=["results"], summary="The older transcription-results call", parameters=[_JOB_ID], responses={
    200: LegacyResultSerializer, 404: OpenApiResponse(ErrorSerializer, "JOB_NOT_FOUND, or JOB_NOT_COMPLETED while "
                                                                      "the job has not finished")})
class LegacyResultView(APIView):
    """``GET /api/results/{job_id}``: the older results call (speakers as a dict here)."""

    def get(self, request, job_id):
        job = selectors.job_get(user=request.user, job_id=job_id, with_result=True)
        if job.status not in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED):
            raise ApplicationError("JOB_NOT_COMPLETED", _("The job has not finished yet."), status=404,
                                   details={"status": selectors.WIRE_STATUS[job.status],
                                            "stage": str(STAGE_LABELS.get(job.stage, job.stage))})
        return Response(LegacyResultSerializer(job).data)
