"""Render jobs: one MotionText scenario burned into one source video."""

from __future__ import annotations

from django.db import models

from ecg.jobs import Job


class RenderJob(Job):
    video = models.ForeignKey("uploads.Video", on_delete=models.CASCADE, related_name="render_jobs")
    transcription_job = models.ForeignKey("transcription.TranscriptionJob", null=True, blank=True,
                                          on_delete=models.SET_NULL, related_name="render_jobs")
    scenario = models.JSONField(help_text="The scenario as rendered (migrated to 2.0).")
    scenario_original = models.JSONField(help_text="The scenario as submitted.")
    scenario_version = models.CharField(max_length=8, default="2.0")
    options = models.JSONField(default=dict, help_text="Resolved width/height/fps/quality/format.")
    seed = models.BigIntegerField(default=0, help_text="Math.random seed: identical frames on every run.")
    media_duration = models.FloatField(null=True, blank=True)
    frames_done = models.PositiveIntegerField(default=0)
    frames_total = models.PositiveIntegerField(default=0)
    frames_captured = models.PositiveIntegerField(default=0)
    encoder = models.CharField(max_length=32, blank=True, default="")
    timings = models.JSONField(default=dict, blank=True)
    output_key = models.CharField(max_length=512, blank=True, default="")
    output_size = models.BigIntegerField(null=True, blank=True)
    output_duration = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "status"]), models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"render {self.pk}"

    @property
    def output_name(self) -> str:
        """The output's file name: the source video's name with the rendered format's extension.

        The one rule for both the stored key (``rendering.runner.output_key``) and the download's file name.
        """
        from pathlib import PurePosixPath

        from rendering.pipeline.options import DEFAULT_FORMAT

        stem = PurePosixPath(self.video.original_filename).stem or "video"
        return f"{stem}.{self.options.get('format', DEFAULT_FORMAT)}"


    @property
    def render_fps(self) -> float | None:
        seconds = self.processing_seconds
        if not seconds or not self.frames_total:
            return None
        return round(self.frames_total / seconds, 1)
