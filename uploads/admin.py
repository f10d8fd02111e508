from django.contrib import admin

from uploads.models import Video


@admin.register(Video)
class VideoAdmin(admin.ModelAdmin):
    list_display = ["id", "original_filename", "owner", "status", "duration", "width", "height", "size",
                    "created_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["original_filename", "key", "owner__email"]
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    readonly_fields = ["key", "size", "duration", "width", "height", "frame_rate", "video_codec", "audio_codec",
                       "has_audio", "probed_at", "uploaded_at", "created_at"]
