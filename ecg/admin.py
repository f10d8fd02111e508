"""Shared admin for background jobs: timing columns and replay/cancel operations that go through services.

A job page is read-only: saving a form would write a stale status or progress back over the worker's
(a job changes state only through the compare-and-set services). Operators act on jobs with the list
actions or with the buttons on a job's page; both call the same services and leave an admin log entry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import quote, unquote
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from ecg.exceptions import ApplicationError
from ecg.jobs import ACTIVE, TERMINAL

OPERATIONS = {
    "replay": _("Replay in place"),
    "replay_new": _("Replay as a new job"),
    "cancel": _("Cancel"),
}


class JobAdmin(admin.ModelAdmin):
    """Subclasses set ``replay_service``/``cancel_service`` (service functions taking ``job=``) and may list
    ``heavy_fields`` (large JSON) to keep out of list pages."""

    replay_service: Callable[..., Any] | None = None
    cancel_service: Callable[..., Any] | None = None
    heavy_fields: tuple[str, ...] = ()
    change_form_template = "admin/job_change_form.html"
    list_filter = ["status", "created_at", "error_code"]
    search_fields = ["id", "owner__email"]
    date_hierarchy = "created_at"
    list_select_related = ["owner"]
    raw_id_fields = ["owner"]
    actions = ["replay_jobs", "replay_jobs_as_new", "cancel_jobs"]
    list_per_page = 50

    def get_queryset(self, request: HttpRequest):
        return super().get_queryset(request).defer(*self.heavy_fields)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs come from the API services (validation, quotas, enqueue), never from a form

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        if obj is not None:
            return False  # read-only page; see the module docstring
        return self.may_operate(request)

    def may_operate(self, request: HttpRequest) -> bool:
        """Replay/cancel need the model's change permission (the form itself stays read-only)."""
        return super().has_change_permission(request)

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

    # --- operations -------------------------------------------------------------------------------------
    def operate(self, request: HttpRequest, job, operation: str):
        """Run one operation through the services; return the resulting job, or None (with a message)."""
        try:
            if operation == "cancel":
                outcome = self.cancel_service(job=job)
            else:
                outcome = self.replay_service(job=job, new=operation == "replay_new")
        except ApplicationError as exc:
            self.message_user(request, f"{job.pk}: {exc.message}", messages.WARNING)
            return None
        if outcome is False:  # cancel lost the compare-and-set: the job had already finished
            self.message_user(request, f"{job.pk}: already {job.status}, not cancelled", messages.WARNING)
            return None
        result = job if outcome is True else outcome
        note = f"{OPERATIONS[operation]}" + (f" → {result.pk}" if result.pk != job.pk else "")
        self.log_change(request, job, note)
        return result

    def _run(self, request: HttpRequest, queryset, operation: str) -> None:
        done = sum(self.operate(request, job, operation) is not None for job in queryset)
        self.message_user(request, f"{OPERATIONS[operation]}: {done} job(s)", messages.SUCCESS if done else
                          messages.INFO)

    @admin.action(description=_("Replay selected jobs in place"), permissions=["change"])
    def replay_jobs(self, request, queryset):
        self._run(request, queryset, "replay")

    @admin.action(description=_("Replay selected jobs as new jobs"), permissions=["change"])
    def replay_jobs_as_new(self, request, queryset):
        self._run(request, queryset, "replay_new")

    @admin.action(description=_("Cancel selected jobs"), permissions=["change"])
    def cancel_jobs(self, request, queryset):
        self._run(request, queryset, "cancel")

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_operate"
        return [path("<path:object_id>/operate/<str:operation>/", self.admin_site.admin_view(self.operate_view),
                     name=name), *super().get_urls()]

    def operate_view(self, request: HttpRequest, object_id: str, operation: str) -> HttpResponse:
        """POST target of the buttons on a job's page."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if operation not in OPERATIONS or not self.may_operate(request):
            raise PermissionDenied
        job = self.get_object(request, unquote(object_id))
        if job is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        result = self.operate(request, job, operation)
        if result is not None:
            self.message_user(request, f"{OPERATIONS[operation]}: {result.pk}", messages.SUCCESS)
        target = result if result is not None else job
        return HttpResponseRedirect(reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                                            args=[quote(target.pk)], current_app=self.admin_site.name))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, unquote(object_id))
        operations = []
        if job is not None and self.may_operate(request):
            allowed = {"replay": job.status in TERMINAL, "replay_new": True, "cancel": job.status in ACTIVE}
            name = f"admin:{self.opts.app_label}_{self.opts.model_name}_operate"
            operations = [{"name": op, "label": label, "url": reverse(name, args=[quote(job.pk), op],
                                                                     current_app=self.admin_site.name)}
                          for op, label in OPERATIONS.items() if allowed[op]]
        return super().change_view(request, object_id, form_url,
                                   extra_context={**(extra_context or {}), "job_operations": operations})

