from django.contrib import admin
from django.urls import include, path
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from ecg import admin_views, events, health

urlpatterns = [
    path("admin/dashboard/", admin_views.dashboard, name="admin-dashboard"),
    path("admin/", admin.site.urls),
    path("api/auth/", include("accounts.urls")),
    path("api/auth/google/", include("accounts.google_urls")),
    path("", include("uploads.urls")),
    path("", include("transcription.urls")),
    path("", include("rendering.urls")),
    path("", include("assistant.urls")),
    path("api/jobs/<str:job_id>/events", events.job_events, name="job-events"),
    path("health", health.health, name="health"),
    path("health/ready", health.ready, name="health-ready"),
    # JSON first: the schema's default representation (YAML on request via the Accept header).
    path("api/schema", SpectacularAPIView.as_view(renderer_classes=[OpenApiJsonRenderer, OpenApiYamlRenderer]),
         name="schema"),
    # GET only: DRF's OPTIONS metadata cannot be rendered as the HTML page (it would be a 500).
    path("api/docs", SpectacularSwaggerView.as_view(url_name="schema", http_method_names=["get", "head"]),
         name="docs"),
]

handler404 = "ecg.views.not_found"
handler500 = "ecg.views.server_error"
