"""Shared admin for background jobs: timing columns and replay/cancel actions that go through services."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.html import format_html

from ecg.exceptions import ApplicationError


class JobAdmin(admin.ModelAdmin):
    """Subclasses set ``replay_service``/``cancel_service`` (service functions taking ``job=``)."""

    replay_service = None
    cancel_service = None
    list_filter = ["status", "created_at", "error_code"]
    search_fields = ["id", "owner__email"]
    date_hierarchy = "created_at"
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    actions = ["replay_jobs", "replay_jobs_as_new", "cancel_jobs"]
    list_per_page = 50

    @admin.display(description="status")
    def status_badge(self, obj):
        colors = {"queued": "#888", "processing": "#1c7ed6", "completed": "#2b8a3e", "failed": "#c92a2a",
                  "cancelled": "#e67700"}
        return format_html('<b style="color:{}">{}</b> {}%', colors.get(obj.status, "#000"), obj.status,
                           obj.progress)

    @admin.display(description="processing s")
    def processing_time(self, obj):
        seconds = obj.processing_seconds
        return None if seconds is None else round(seconds, 1)

    @admin.display(description="RTF")
    def rtf(self, obj):
        return obj.real_time_factor

    def _run(self, request, queryset, label, func):
        done = 0
        for job in queryset:
            try:
                func(job)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{job.pk}: {exc.message}", messages.WARNING)
        self.message_user(request, f"{label}: {done} job(s)", messages.SUCCESS)

    @admin.action(description="Replay selected jobs in place")
    def replay_jobs(self, request, queryset):
        self._run(request, queryset, "replayed", lambda job: type(self).replay_service(job=job))

    @admin.action(description="Replay selected jobs as new jobs")
    def replay_jobs_as_new(self, request, queryset):
        self._run(request, queryset, "replayed as new", lambda job: type(self).replay_service(job=job, new=True))

    @admin.action(description="Cancel selected jobs")
    def cancel_jobs(self, request, queryset):
        self._run(request, queryset, "cancel requested", lambda job: type(self).cancel_service(job=job))
