from django.urls import path
from rest_framework.routers import SimpleRouter

from uploads import views

router = SimpleRouter(trailing_slash=False)
router.register("api/videos", views.VideoViewSet, basename="video")

urlpatterns = [
    path("api/upload-video/generate-url", views.GenerateUploadUrlView.as_view(), name="upload-generate-url"),
    path("api/upload-video/upload/<str:token>", views.upload_put, name="upload-put"),
    path("api/files/<str:token>", views.file_download, name="file-download"),
    *router.urls,
]
