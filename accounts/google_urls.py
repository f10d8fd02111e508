"""Google login, mounted at ``/api/auth/google/``."""

from django.urls import path

from accounts import google_views

urlpatterns = [
    path("login", google_views.GoogleLoginView.as_view(), name="auth-google-login"),
    path("callback", google_views.GoogleCallbackView.as_view(), name="auth-google-callback"),
]
