"""The declared shapes of API.md section 2: the request-process body and the responses.

Every response serializer renders its endpoint's body from the job (and is its schema):
``StatusResponseSerializer`` the status endpoint (and the SSE events), ``RequestProcessResponseSerializer``,
``CancelResponseSerializer`` and ``LegacyResultSerializer`` theirs. The transcript serializers declare the
stored ``result`` the pipeline writes, which passes through as stored (checked against real responses by the
schema fuzz test).
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import SkipField

from ecg.estimates import job_eta_seconds
from ecg.jobs import JobStatus
from transcription.labels import STAGE_LABELS
from transcription.selectors import WIRE_STATUS, error_of


class RequestProcessSerializer(serializers.Serializer):
    fileKey = serializers.CharField(max_length=512)  # noqa: N815 (wire name)
    language = serializers.CharField(max_length=16, required=False, allow_blank=True, allow_null=True)


# --- response shapes (API.md 2 and 2.1) --------------------------------------------------------------
def _num(**kwargs):
    return serializers.FloatField(**kwargs)


class SpeakerRefSerializer(serializers.Serializer):
    speaker_id = serializers.CharField(allow_null=True)
    confidence = _num(allow_null=True)
    gender = serializers.CharField(allow_null=True)
    age_group = serializers.CharField(allow_null=True)


class EmotionSerializer(serializers.Serializer):
    emotion = serializers.CharField()
    confidence = _num()
    probabilities = serializers.DictField(child=_num())


class WordSerializer(serializers.Serializer):
    word = serializers.CharField()
    start = _num()
    end = _num()
    confidence = _num(allow_null=True)
    speaker_id = serializers.CharField(allow_null=True)
    volume_db = _num(allow_null=True, help_text="RMS over the word, dBFS")
    pitch_hz = _num(allow_null=True, help_text="Median F0 of voiced frames; null when unvoiced")
    harmonics_ratio = _num(allow_null=True, help_text="Harmonics-to-noise ratio, dB")
    spectral_centroid = _num(allow_null=True, help_text="Hz")


class SegmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    start = _num()
    end = _num()
    start_time = _num()
    end_time = _num()
    duration = _num()
    text = serializers.CharField(allow_blank=True)
    confidence = _num(allow_null=True)
    speaker = SpeakerRefSerializer()
    emotion = EmotionSerializer(allow_null=True, help_text="null when no emotion model is configured")
    words = WordSerializer(many=True)


class SpeakerDetailSerializer(serializers.Serializer):
    total_duration = _num()
    segment_count = serializers.IntegerField()
    avg_confidence = _num(allow_null=True)


class TranscriptMetadataSerializer(serializers.Serializer):
    duration = _num()
    language = serializers.CharField(allow_null=True)
    language_requested = serializers.CharField()
    model = serializers.CharField()
    engine = serializers.CharField()
    device = serializers.CharField()
    processing_time = _num()
    total_segments = serializers.IntegerField()
    unique_speakers = serializers.IntegerField()
    emotion_model = serializers.CharField(allow_null=True)


class VolumeStatisticsSerializer(serializers.Serializer):
    global_min_db = _num(allow_null=True)
    global_max_db = _num(allow_null=True)
    global_mean_db = _num(allow_null=True)
    baseline_db = _num(allow_null=True)
    whisper_threshold_db = _num(allow_null=True)
    loud_threshold_db = _num(allow_null=True)


class PitchStatisticsSerializer(serializers.Serializer):
    global_min_hz = _num(allow_null=True)
    global_max_hz = _num(allow_null=True)
    global_mean_hz = _num(allow_null=True)


class TranscriptSerializer(serializers.Serializer):
    segments = SegmentSerializer(many=True)
    speakers = serializers.ListField(child=serializers.CharField(), help_text="Speaker ids (an array of strings)")
    speaker_details = serializers.DictField(child=SpeakerDetailSerializer())
    language = serializers.CharField(allow_null=True)
    metadata = TranscriptMetadataSerializer()
    volume_statistics = VolumeStatisticsSerializer()
    pitch_statistics = PitchStatisticsSerializer()


class JobErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="MEDIA_INVALID, NO_AUDIO_STREAM, MEDIA_TOO_LONG, CANCELLED, TIMEOUT, ...")
    message = serializers.CharField(allow_null=True)


_WIRE_STATUSES = ["pending", "processing", "completed", "failed"]


@extend_schema_field(serializers.ChoiceField(choices=_WIRE_STATUSES))
class WireStatusField(serializers.Field):
    """The job's status as the editor knows it (``selectors.WIRE_STATUS``: queued is pending, ...)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, value: str) -> str:
        return WIRE_STATUS[value]


class RequestProcessResponseSerializer(serializers.Serializer):
    """The job this request started, or the identical one already running."""

    # Rendered from the job; context["created"] says whether this request started it (the message).

    job_id = serializers.UUIDField(source="pk")
    status = WireStatusField()
    estimated_time = serializers.SerializerMethodField(help_text="Seconds")
    message = serializers.SerializerMethodField()

    @extend_schema_field(serializers.IntegerField())
    def get_estimated_time(self, job) -> int:
        return round(job.estimated_seconds or 0)

    @extend_schema_field(serializers.CharField())
    def get_message(self, job) -> str:
        return _("Processing started.") if self.context["created"] else _("An identical job is already in progress.")


class StatusResponseSerializer(serializers.Serializer):
    """The status endpoint's body and each SSE event's (``selectors.status_payload``), rendered from the job."""

    job_id = serializers.UUIDField(source="pk")
    status = serializers.SerializerMethodField()
    progress = serializers.IntegerField(min_value=0, max_value=100)
    stage = serializers.CharField(help_text="queued, downloading, extracting_audio, transcribing, aligning, "
                                            "diarizing, analyzing, finalizing, done")
    current_stage = serializers.SerializerMethodField(help_text="Localized label of the stage")
    estimated_time_remaining = serializers.SerializerMethodField(help_text="Seconds")
    error = serializers.SerializerMethodField()
    result = serializers.SerializerMethodField(help_text="The whole transcript once completed")

    @extend_schema_field(serializers.ChoiceField(choices=["pending", "processing", "completed", "failed"]))
    def get_status(self, job) -> str:
        return WIRE_STATUS[job.status]

    @extend_schema_field(serializers.CharField())
    def get_current_stage(self, job) -> str:
        label = "failed" if job.status in (JobStatus.FAILED, JobStatus.CANCELLED) else job.stage
        return str(STAGE_LABELS.get(label, label))

    @extend_schema_field(serializers.IntegerField())
    def get_estimated_time_remaining(self, job) -> int:
        return job_eta_seconds(job)

    @extend_schema_field(JobErrorSerializer(allow_null=True))
    def get_error(self, job) -> dict | None:
        return error_of(job)

    @extend_schema_field(TranscriptSerializer(allow_null=True))
    def get_result(self, job) -> dict | None:
        # The stored transcript as the pipeline wrote it (TranscriptSerializer declares its shape).
        return job.result if job.status == JobStatus.COMPLETED else None


class CancelResponseSerializer(serializers.Serializer):
    """Whether the job was cancelled, and its status now."""

    # Rendered from the job; context["cancelled"] is what services.transcription_cancel answered.

    success = serializers.SerializerMethodField()
    job_id = serializers.UUIDField(source="pk")
    status = WireStatusField()
    message = serializers.SerializerMethodField()

    @extend_schema_field(serializers.BooleanField())
    def get_success(self, job) -> bool:
        return bool(self.context["cancelled"])

    @extend_schema_field(serializers.CharField())
    def get_message(self, job) -> str:
        return _("The job was cancelled.") if self.context["cancelled"] else _("The job has already finished.")


@extend_schema_field(JobErrorSerializer(allow_null=True))
class LegacyErrorField(serializers.Field):
    """The failed job's error; the key is absent (not null) for a completed job, as the older call always did."""

    def __init__(self, **kwargs) -> None:
        super().__init__(source="*", required=False, **kwargs)

    def get_attribute(self, job):
        if job.status == JobStatus.COMPLETED:
            raise SkipField()
        return job

    def to_representation(self, job) -> dict | None:
        return error_of(job)


class LegacyResultSerializer(serializers.Serializer):
    """A finished job's transcript; a failed or cancelled one answers ``failed`` with its ``error``.

    Rendered from the job; the transcript parts pass through as the pipeline stored them.
    """

    jobId = serializers.UUIDField(source="pk")  # noqa: N815 (wire name)
    status = serializers.SerializerMethodField()
    error = LegacyErrorField()
    metadata = serializers.SerializerMethodField(help_text="The transcript's metadata (empty for a failed job)")
    segments = serializers.SerializerMethodField()
    speakers = serializers.SerializerMethodField(help_text="A dict here (speaker_details)")

    @staticmethod
    def _part(job, key: str, empty):
        return job.result.get(key, empty) if job.status == JobStatus.COMPLETED else empty

    @extend_schema_field(serializers.ChoiceField(choices=["success", "failed"]))
    def get_status(self, job) -> str:
        return "success" if job.status == JobStatus.COMPLETED else "failed"

    @extend_schema_field(serializers.DictField())
    def get_metadata(self, job) -> dict:
        return self._part(job, "metadata", {})

    @extend_schema_field(SegmentSerializer(many=True))
    def get_segments(self, job) -> list:
        return self._part(job, "segments", [])

    @extend_schema_field(serializers.DictField(child=SpeakerDetailSerializer()))
    def get_speakers(self, job) -> dict:
        return self._part(job, "speaker_details", {})
