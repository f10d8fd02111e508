from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ecg.jobs import kind_of
from ecg.serializers import IsoDateTimeField
from uploads import selectors
from uploads.models import Video


class GenerateUrlSerializer(serializers.Serializer):
    filename = serializers.CharField(max_length=255)
    content_type = serializers.CharField(max_length=128, required=False, allow_blank=True, default="")


class VideoSerializer(serializers.ModelSerializer):
    file_key = serializers.CharField(source="key")
    filename = serializers.CharField(source="original_filename")

    class Meta:
        model = Video
        fields = ["id", "file_key", "filename", "content_type", "size", "status", "invalid_reason", "invalid_code",
                  "duration", "width", "height", "frame_rate", "video_codec", "audio_codec", "has_audio", "created_at",
                  "uploaded_at"]
        read_only_fields = fields


class VideoMetadataSerializer(serializers.Serializer):
    """The editor's ``VideoMetadata`` (camelCase)."""

    duration = serializers.FloatField(allow_null=True)
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    frameRate = serializers.FloatField(source="frame_rate", allow_null=True)  # noqa: N815
    videoCodec = serializers.CharField(source="video_codec", allow_null=True)  # noqa: N815
    audioCodec = serializers.CharField(source="audio_codec", allow_null=True)  # noqa: N815
    filesize = serializers.IntegerField(source="size", allow_null=True)

    def to_representation(self, instance):
        data = super().to_representation(instance)
        for key in ("videoCodec", "audioCodec"):
            data[key] = data[key] or None
        return data


# --- response shapes (they render the responses) ----------------------------------------------------
class GenerateUrlResponseSerializer(serializers.Serializer):
    """The three URL fields are equal, and so are the two key fields (rendered from the service's result)."""

    upload_url = serializers.URLField()
    presigned_url = serializers.URLField()
    url = serializers.URLField()
    file_key = serializers.CharField()
    fileKey = serializers.CharField()  # noqa: N815 (wire name)
    expires_in = serializers.IntegerField(help_text="Seconds")
    expires_at = serializers.DateTimeField()
    content_type = serializers.CharField(help_text="The Content-Type the upload URL was signed for")


@extend_schema_field(serializers.ChoiceField(choices=["transcription", "render"]))
class JobKindField(serializers.Field):
    """The registered kind name of a job (``ecg.jobs.JobKind.name``)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(source="*", read_only=True, **kwargs)

    def to_representation(self, job) -> str:
        return kind_of(type(job)).name


class VideoJobSerializer(serializers.Serializer):
    """One job that used the video."""

    job_id = serializers.UUIDField(source="pk")
    type = JobKindField()
    status = serializers.ChoiceField(choices=["queued", "processing", "completed", "failed", "cancelled"])
    progress = serializers.IntegerField(min_value=0, max_value=100)
    created_at = IsoDateTimeField()
    finished_at = IsoDateTimeField(allow_null=True)


class VideoDetailSerializer(VideoSerializer):
    """One video with its jobs (every registered kind), newest first."""

    jobs = serializers.SerializerMethodField()

    @extend_schema_field(VideoJobSerializer(many=True))
    def get_jobs(self, video: Video) -> list[dict]:
        return VideoJobSerializer(selectors.video_jobs(video=video), many=True).data

    class Meta(VideoSerializer.Meta):
        fields = [*VideoSerializer.Meta.fields, "jobs"]
        read_only_fields = fields


class VideoDeletedSerializer(serializers.Serializer):
    success = serializers.BooleanField()
    id = serializers.IntegerField()
    message = serializers.CharField()
