"""The error envelope for failures outside the happy paths: crashes (500) and non-DRF error pages."""

from __future__ import annotations

import json

from django.http import HttpResponse, HttpResponseNotAllowed
from django.test import RequestFactory
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from ecg.middleware import JsonErrorMiddleware


class Crashes(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []

    def get(self, request):
        raise RuntimeError("secret internals: db password is hunter2")


def test_unexpected_exception_is_500_envelope_without_internals():
    response = Crashes.as_view()(RequestFactory().get("/api/anything"))
    response.render()
    body = json.loads(response.content)
    assert response.status_code == 500
    assert body["error"] == "INTERNAL_ERROR" and body["detail"] == body["message"]
    assert "hunter2" not in response.content.decode()


def test_render_area_crash_uses_render_shape():
    response = Crashes.as_view()(RequestFactory().get("/api/render/x/status"))
    response.render()
    body = json.loads(response.content)
    assert response.status_code == 500 and body["detail"]["error"] == "INTERNAL_ERROR"


def test_html_error_pages_become_json_envelopes():
    request = RequestFactory().get("/api/upload-video/upload/x")
    html_500 = JsonErrorMiddleware(lambda r: HttpResponse("<h1>Server Error</h1>", status=500))(request)
    assert html_500.status_code == 500 and json.loads(html_500.content)["error"] == "INTERNAL_ERROR"
    not_allowed = JsonErrorMiddleware(lambda r: HttpResponseNotAllowed(["PUT"]))(request)
    assert not_allowed.status_code == 405 and not_allowed["Allow"] == "PUT"
    assert json.loads(not_allowed.content)["error"] == "METHOD_NOT_ALLOWED"
    admin = JsonErrorMiddleware(lambda r: HttpResponse("<h1>x</h1>", status=404))(RequestFactory().get("/admin/x"))
    assert admin.content == b"<h1>x</h1>"
