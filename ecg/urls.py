from django.contrib import admin
from django.urls import include, path
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiJsonRenderer2, OpenApiYamlRenderer
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

urlpatterns = [
    # Before admin/: the dashboard lives under the admin's prefix. Apps are named by string only (composition).
    path("", include("ops.urls")),
    path("admin/", admin.site.urls),
    path("api/auth/", include("accounts.urls")),
    path("api/auth/google/", include("accounts.google_urls")),
    path("", include("uploads.urls")),
    path("", include("transcription.urls")),
    path("", include("rendering.urls")),
    path("", include("assets.urls")),
    path("", include("assistant.urls")),
    # JSON first: the schema's default representation, also for ``Accept: application/json`` (what OpenAPI
    # tools send); YAML on request via the Accept header.
    path("api/schema", SpectacularAPIView.as_view(
        renderer_classes=[OpenApiJsonRenderer, OpenApiJsonRenderer2, OpenApiYamlRenderer]), name="schema"),
    # GET only: DRF's OPTIONS metadata cannot be rendered as the HTML page (it would be a 500). The split
    # view serves Swagger UI's init script as a file (/api/docs?script), so the CSP needs no inline script.
    path("api/docs", SpectacularSwaggerSplitView.as_view(url_name="schema", http_method_names=["get", "head"]),
         name="docs"),
]

handler404 = "ecg.views.not_found"
handler500 = "ecg.views.server_error"
