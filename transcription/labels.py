"""Stage codes of a transcription job and their localized labels (the editor shows ``current_stage``)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# Every stage code a transcription job reports: the pipeline's (transcription.pipeline.PIPELINE_STAGES) plus
# the job's own queued, downloading and done.
JOB_STAGES = ("queued", "downloading", "extracting_audio", "transcribing", "aligning", "diarizing", "analyzing",
          "finalizing", "done")

STAGE_LABELS = {
    "queued": _("Waiting in queue"),
    "downloading": _("Preparing the file"),
    "extracting_audio": _("Extracting audio"),
    "transcribing": _("Recognizing speech"),
    "aligning": _("Aligning words"),
    "diarizing": _("Identifying speakers"),
    "analyzing": _("Analyzing the voice"),
    "finalizing": _("Finalizing"),
    "done": _("Done"),
    "failed": _("Failed"),
}

ERROR_MESSAGES = {
    "MEDIA_INVALID": _("The file could not be read as audio or video."),
    "NO_AUDIO_STREAM": _("The file has no audio track."),
    "MEDIA_TOO_LONG": _("The media is longer than your plan allows."),
    "CANCELLED": _("The job was cancelled."),
    "TIMEOUT": _("The job took too long and was stopped."),
    "WORKER_LOST": _("The worker processing this job stopped responding."),
    "LANGUAGE_UNSUPPORTED": _("The configured speech model does not support this language."),
    "INTERNAL": _("An internal error occurred. Please try again later."),
}
