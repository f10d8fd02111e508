from __future__ import annotations

import json

from django.contrib import admin
from django.utils.html import format_html

from ecg.admin import JobAdmin
from rendering import selectors, services
from rendering.models import RenderJob


@admin.register(RenderJob)
class RenderJobAdmin(JobAdmin):
    replay_service = staticmethod(services.render_replay)
    cancel_service = staticmethod(services.render_cancel)
    list_display = ["id", "owner", "video", "status_badge", "stage", "frames", "encoder", "media_duration",
                    "processing_time", "rtf", "fps_rendered", "output_size", "error_code", "created_at"]
    list_filter = ["status", "created_at", ("owner", admin.RelatedOnlyFieldListFilter), "encoder", "error_code"]
    search_fields = ["id", "owner__email", "video__original_filename"]
    list_select_related = ["owner", "video"]
    raw_id_fields = ["owner", "video", "transcription_job"]
    readonly_fields = ["id", "owner", "video", "transcription_job", "status", "stage", "progress", "attempts",
                       "worker", "heartbeat_at", "started_at", "finished_at", "estimated_seconds", "media_duration",
                       "frames_done", "frames_total", "frames_captured", "encoder", "timings", "output_key",
                       "output_size", "output_duration", "seed", "options", "scenario_version", "error_code",
                       "error_message", "error_traceback", "output_player", "scenario_pretty", "created_at"]
    fieldsets = [
        (None, {"fields": ["id", "owner", "video", "transcription_job", "status", "stage", "progress"]}),
        ("Output", {"fields": ["output_player", "output_key", "output_size", "output_duration"]}),
        ("Render", {"fields": ["options", "seed", "scenario_version", "media_duration", "frames_done",
                               "frames_total", "frames_captured", "encoder", "timings", "estimated_seconds"]}),
        ("Worker", {"fields": ["attempts", "worker", "created_at", "started_at", "heartbeat_at", "finished_at"]}),
        ("Error", {"fields": ["error_code", "error_message", "error_traceback"]}),
        ("Scenario", {"classes": ["collapse"], "fields": ["scenario_pretty"]}),
    ]
    heavy_fields = ("scenario", "scenario_original")

    @admin.display(description="frames (captured/total)")
    def frames(self, obj):
        return f"{obj.frames_captured}/{obj.frames_total}" if obj.frames_total else "—"

    @admin.display(description="render fps")
    def fps_rendered(self, obj):
        return obj.render_fps

    @admin.display(description="output")
    def output_player(self, obj):
        url = selectors.download_url(obj)
        if not url:
            return "—"
        return format_html('<video src="{}" controls preload="metadata" style="max-width:640px"></video>'
                           '<br><a href="{}">download</a>', url, url)

    @admin.display(description="scenario (2.0)")
    def scenario_pretty(self, obj):
        return format_html('<pre style="max-height:480px;overflow:auto">{}</pre>',
                           json.dumps(obj.scenario, indent=2, ensure_ascii=False))
