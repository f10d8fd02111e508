"""The declared shapes of API.md section 4 (camelCase): requests, and responses rendered from the jobs themselves.

Each response serializer both renders its endpoint's body and feeds the OpenAPI schema, so the two cannot
drift. ``selectors.status_payload`` (also the SSE event body) renders ``RenderStatusResponseSerializer``.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from ecg.estimates import job_eta_seconds
from ecg.serializers import BlankAsNullCharField, IsoDateTimeField
from rendering.pipeline.options import BOUNDS, DEFAULT_FORMAT, DEFAULT_QUALITY, FORMATS


class RenderCreateSerializer(serializers.Serializer):
    videoUrl = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=4096)  # noqa: N815
    fileKey = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=512)  # noqa: N815
    jobId = serializers.CharField(required=False, allow_blank=True, allow_null=True, max_length=64)  # noqa: N815
    scenario = serializers.DictField()
    options = serializers.DictField(required=False, allow_null=True)


# --- request shapes ---------------------------------------------------------------------------------
class RenderOptionsSerializer(serializers.Serializer):
    """The documented options; bounds and defaults come from ``rendering.pipeline.options`` (written once)."""

    width = serializers.IntegerField(required=False, min_value=BOUNDS["width"][0], max_value=BOUNDS["width"][1],
                                     help_text="Even; default: source")
    height = serializers.IntegerField(required=False, min_value=BOUNDS["height"][0], max_value=BOUNDS["height"][1],
                                      help_text="Even; default: source")
    fps = serializers.FloatField(required=False, min_value=BOUNDS["fps"][0], max_value=BOUNDS["fps"][1],
                                 help_text="Default: source fps")
    quality = serializers.IntegerField(required=False, min_value=BOUNDS["quality"][0],
                                       max_value=BOUNDS["quality"][1], default=DEFAULT_QUALITY)
    format = serializers.ChoiceField(choices=list(FORMATS), required=False, default=DEFAULT_FORMAT)


@extend_schema_serializer(component_name="RenderCreate")
class RenderCreateRequestSerializer(RenderCreateSerializer):
    """Schema only: the body as documented (the view validates ``options`` and ``scenario`` itself)."""

    scenario = serializers.DictField(help_text="MotionText scenario, version 2.0 or 1.3")
    options = RenderOptionsSerializer(required=False, allow_null=True)


# --- response shapes (they render the responses) ----------------------------------------------------
class SourceVideoSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="video_id")
    filename = serializers.CharField(source="video.original_filename")


class RenderCreateResponseSerializer(serializers.Serializer):
    jobId = serializers.UUIDField(source="pk")  # noqa: N815 (wire name)
    status = serializers.ChoiceField(choices=["queued"])
    estimatedTime = serializers.SerializerMethodField(help_text="Seconds")  # noqa: N815
    createdAt = IsoDateTimeField(source="created_at")  # noqa: N815
    sourceVideo = SourceVideoSerializer(source="*")  # noqa: N815

    @extend_schema_field(serializers.IntegerField())
    def get_estimatedTime(self, job) -> int:  # noqa: N802
        return round(job.estimated_seconds or 0)


_RENDER_STATUSES = ["queued", "processing", "completed", "failed", "cancelled"]


@extend_schema_field(serializers.URLField(allow_null=True, help_text="Fresh, expiring; only when completed"))
class DownloadUrlField(serializers.Field):
    """A fresh signed URL for a completed render's output (None otherwise)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, job) -> str | None:
        from rendering.selectors import download_url

        return download_url(job)


class RenderStatusResponseSerializer(serializers.Serializer):
    jobId = serializers.UUIDField(source="pk")  # noqa: N815
    status = serializers.ChoiceField(choices=_RENDER_STATUSES)
    progress = serializers.IntegerField(min_value=0, max_value=100)
    estimatedTimeRemaining = serializers.SerializerMethodField(help_text="Seconds")  # noqa: N815
    startedAt = IsoDateTimeField(source="started_at", allow_null=True)  # noqa: N815
    completedAt = IsoDateTimeField(source="finished_at", allow_null=True)  # noqa: N815
    downloadUrl = DownloadUrlField()  # noqa: N815
    error = serializers.SerializerMethodField()
    errorCode = BlankAsNullCharField(source="error_code")  # noqa: N815
    fileSize = serializers.IntegerField(source="output_size", allow_null=True)  # noqa: N815
    duration = serializers.FloatField(source="output_duration", allow_null=True)

    @extend_schema_field(serializers.IntegerField())
    def get_estimatedTimeRemaining(self, job) -> int:  # noqa: N802
        return job_eta_seconds(job)

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_error(self, job) -> str | None:
        from rendering.selectors import error_message

        return error_message(job)


class RenderCancelResponseSerializer(serializers.Serializer):
    """POST /api/render/{jobId}/cancel, rendered from whether the cancel took effect (the instance: a bool)."""

    success = serializers.SerializerMethodField()
    message = serializers.SerializerMethodField()

    def get_success(self, cancelled: bool) -> bool:
        return bool(cancelled)

    def get_message(self, cancelled: bool) -> str:
        return str(_("The render was cancelled.") if cancelled else _("The render has already finished."))


class RenderHistoryItemSerializer(serializers.Serializer):
    jobId = serializers.UUIDField(source="pk")  # noqa: N815
    videoName = serializers.CharField(source="video.original_filename")  # noqa: N815
    status = serializers.ChoiceField(choices=_RENDER_STATUSES)
    createdAt = IsoDateTimeField(source="created_at")  # noqa: N815
    completedAt = IsoDateTimeField(source="finished_at", allow_null=True)  # noqa: N815
    downloadUrl = DownloadUrlField()  # noqa: N815
    fileSize = serializers.IntegerField(source="output_size", allow_null=True)  # noqa: N815
    duration = serializers.FloatField(source="output_duration", allow_null=True)


class QuotaWindowSerializer(serializers.Serializer):
    used = serializers.IntegerField()
    limit = serializers.IntegerField()
    resetsAt = IsoDateTimeField(source="resets_at")  # noqa: N815


class QuotaConcurrentSerializer(serializers.Serializer):
    used = serializers.IntegerField()
    limit = serializers.IntegerField()


class RenderQuotaResponseSerializer(serializers.Serializer):
    """Rendered from ``rendering.quotas.QuotaUsage``."""

    daily = QuotaWindowSerializer()
    monthly = QuotaWindowSerializer()
    concurrent = QuotaConcurrentSerializer()
