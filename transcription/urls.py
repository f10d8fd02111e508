from django.urls import path

from transcription import views

urlpatterns = [
    path("api/upload-video/request-process", views.RequestProcessView.as_view(), name="transcription-request"),
    path("api/upload-video/status/<str:job_id>", views.StatusView.as_view(), name="transcription-status"),
    path("api/upload-video/cancel/<str:job_id>", views.CancelView.as_view(), name="transcription-cancel"),
    path("api/upload-video/result/<str:job_id>/export", views.ExportView.as_view(), name="transcription-export"),
    path("api/results/<str:job_id>", views.LegacyResultView.as_view(), name="transcription-legacy-result"),
]
