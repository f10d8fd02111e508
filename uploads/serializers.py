from __future__ import annotations

from rest_framework import serializers

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
