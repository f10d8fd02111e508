"""Operator-facing and cross-app endpoints: the admin dashboard, the job event stream, health probes."""

from django.urls import path

from ops import admin_views, events, health

urlpatterns = [
    path("admin/dashboard/", admin_views.dashboard, name="admin-dashboard"),
    path("api/jobs/<str:job_id>/events", events.job_events, name="job-events"),
    path("health", health.health, name="health"),
    path("health/ready", health.ready, name="health-ready"),
]
