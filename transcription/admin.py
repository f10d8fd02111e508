from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from ecg.admin import JobAdmin
from transcription import services
from transcription.models import TranscriptionJob

PREVIEW_SEGMENTS = 300


def _seconds(value) -> str:
    try:
        return f"{float(value):.2f}"
    except (TypeError, ValueError):
        return "?"


@admin.register(TranscriptionJob)
class TranscriptionJobAdmin(JobAdmin):
    replay_service = staticmethod(services.transcription_replay)
    cancel_service = staticmethod(services.transcription_cancel)
    list_display = ["id", "owner", "video", "status_badge", "stage", "language", "detected_language", "engine",
                    "media_duration", "processing_time", "rtf", "error_code", "created_at"]
    list_filter = ["status", "created_at", ("owner", admin.RelatedOnlyFieldListFilter), "engine", "language",
                   "error_code"]
    search_fields = ["id", "owner__email", "video__original_filename"]
    list_select_related = ["owner", "video"]
    raw_id_fields = ["owner", "video"]
    readonly_fields = ["id", "owner", "video", "language", "status", "stage", "progress", "attempts", "worker",
                       "heartbeat_at", "started_at", "finished_at", "estimated_seconds", "detected_language",
                       "media_duration", "engine", "model_name", "device", "stage_timings", "error_code",
                       "error_message", "error_traceback", "transcript_preview", "created_at"]
    fieldsets = [
        (None, {"fields": ["id", "owner", "video", "status", "stage", "progress", "language", "detected_language"]}),
        ("Transcript", {"fields": ["transcript_preview"]}),
        ("Engine", {"fields": ["engine", "model_name", "device", "media_duration", "estimated_seconds",
                               "stage_timings"]}),
        ("Worker", {"fields": ["attempts", "worker", "created_at", "started_at", "heartbeat_at", "finished_at"]}),
        ("Error", {"fields": ["error_code", "error_message", "error_traceback"]}),
    ]
    heavy_fields = ("result",)

    @admin.display(description="transcript")
    def transcript_preview(self, obj):
        """The first segments as a table (time, speaker, emotion, text); tolerant of partial results."""
        result = obj.result if isinstance(obj.result, dict) else {}
        segments = [seg for seg in result.get("segments") or [] if isinstance(seg, dict)]
        if not segments:
            return "—"
        rows = []
        for seg in segments[:PREVIEW_SEGMENTS]:
            speaker = seg.get("speaker") if isinstance(seg.get("speaker"), dict) else {}
            emotion = seg.get("emotion") if isinstance(seg.get("emotion"), dict) else {}
            rows.append((f"{_seconds(seg.get('start'))}–{_seconds(seg.get('end'))}", speaker.get("speaker_id") or "",
                         emotion.get("emotion") or "", seg.get("text") or ""))
        speakers = result.get("speakers") if isinstance(result.get("speakers"), list) else []
        shown = f" (first {PREVIEW_SEGMENTS} shown)" if len(segments) > PREVIEW_SEGMENTS else ""
        body = format_html_join(
            "", '<tr class="segment"><td class="time">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>', rows)
        return format_html(
            '<p class="transcript-summary">{} segments{} · {} speakers · language {}</p>'
            '<div class="transcript-preview"><table class="transcript-preview"><thead><tr><th>time</th>'
            '<th>speaker</th><th>emotion</th><th>text</th></tr></thead><tbody>{}</tbody></table></div>',
            len(segments), shown, len(speakers), result.get("language") or "?", body)
