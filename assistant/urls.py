from django.urls import path

from assistant import views

urlpatterns = [
    path("api/v1/chatbot", views.chatbot, name="chatbot"),
]
