from django.contrib import admin
from django.urls import include, path

from ecg import admin_views, events

urlpatterns = [
    path("admin/dashboard/", admin_views.dashboard, name="admin-dashboard"),
    path("admin/", admin.site.urls),
    path("api/auth/", include("accounts.urls")),
    path("api/auth/google/", include("accounts.google_urls")),
    path("", include("uploads.urls")),
    path("", include("transcription.urls")),
    path("", include("rendering.urls")),
    path("api/jobs/<str:job_id>/events", events.job_events, name="job-events"),
]

handler404 = "ecg.views.not_found"
handler500 = "ecg.views.server_error"
