"""Transcription jobs: one run of the pipeline over one uploaded video."""

from __future__ import annotations

from django.db import models

from ecg.jobs import Job


class TranscriptionJob(Job):
    video = models.ForeignKey("uploads.Video", on_delete=models.CASCADE, related_name="transcription_jobs")
    language = models.CharField(max_length=16, default="auto", help_text="Requested language (auto = detect).")
    detected_language = models.CharField(max_length=16, blank=True, default="")
    media_duration = models.FloatField(null=True, blank=True)
    engine = models.CharField(max_length=32, blank=True, default="")
    model_name = models.CharField(max_length=255, blank=True, default="")
    device = models.CharField(max_length=16, blank=True, default="")
    stage_timings = models.JSONField(default=dict, blank=True)
    result = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "video", "language", "status"])]

    def __str__(self) -> str:
        return f"transcription {self.pk}"
