from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from ecg.admin import JobAdmin
from transcription import services
from transcription.models import TranscriptionJob


@admin.register(TranscriptionJob)
class TranscriptionJobAdmin(JobAdmin):
    replay_service = staticmethod(services.transcription_replay)
    cancel_service = staticmethod(services.transcription_cancel)
    list_display = ["id", "owner", "video", "status_badge", "stage", "language", "detected_language", "engine",
                    "media_duration", "processing_time", "rtf", "error_code", "created_at"]
    list_filter = ["status", "created_at", "engine", "language", "error_code"]
    search_fields = ["id", "owner__email", "video__original_filename"]
    list_select_related = ["owner", "video"]
    raw_id_fields = ["owner", "video"]
    readonly_fields = ["id", "status", "stage", "progress", "attempts", "worker", "heartbeat_at", "started_at",
                       "finished_at", "estimated_seconds", "detected_language", "media_duration", "engine",
                       "model_name", "device", "stage_timings", "error_code", "error_message", "error_traceback",
                       "transcript_preview", "created_at"]
    exclude = ["result"]

    @admin.display(description="transcript")
    def transcript_preview(self, obj):
        result = obj.result or {}
        rows = [(f"{seg.get('start', 0):7.2f}–{seg.get('end', 0):7.2f}",
                 (seg.get("speaker") or {}).get("speaker_id", ""), seg.get("text", ""))
                for seg in result.get("segments", [])[:300]]
        if not rows:
            return "—"
        body = format_html_join("", "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>", rows)
        return format_html('<table class="transcript-preview">{}</table>', body)
