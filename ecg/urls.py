from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/auth/", include("accounts.urls")),
    path("api/auth/google/", include("accounts.google_urls")),
    path("", include("uploads.urls")),
    path("", include("transcription.urls")),
    path("", include("rendering.urls")),
]

handler404 = "ecg.views.not_found"
handler500 = "ecg.views.server_error"
