from django.urls import path

from rendering import views

urlpatterns = [
    path("api/render/create", views.RenderCreateView.as_view(), name="render-create"),
    path("api/render/history", views.RenderHistoryView.as_view(), name="render-history"),
    path("api/render/quota", views.RenderQuotaView.as_view(), name="render-quota"),
    path("api/render/<str:job_id>/status", views.RenderStatusView.as_view(), name="render-status"),
    path("api/render/<str:job_id>/cancel", views.RenderCancelView.as_view(), name="render-cancel"),
]
