"""Uploaded media: one row from the moment an upload URL is issued."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Video(models.Model):
    class Status(models.TextChoices):
        PENDING_UPLOAD = "pending_upload", "pending upload"
        UPLOADED = "uploaded", "uploaded (not probed yet)"
        READY = "ready", "ready"
        INVALID = "invalid", "invalid"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="videos")
    key = models.CharField(max_length=512, unique=True)
    original_filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=128)
    size = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING_UPLOAD)
    invalid_reason = models.CharField(max_length=255, blank=True, default="")
    invalid_code = models.CharField(max_length=32, blank=True, default="",
                                    help_text="Stable code of invalid_reason (MEDIA_INVALID, MEDIA_TOO_LARGE, ...)")
    duration = models.FloatField(null=True, blank=True)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    frame_rate = models.FloatField(null=True, blank=True)
    video_codec = models.CharField(max_length=32, blank=True, default="")
    audio_codec = models.CharField(max_length=32, blank=True, default="")
    has_audio = models.BooleanField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    uploaded_at = models.DateTimeField(null=True, blank=True)
    probed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.original_filename} ({self.pk})"
