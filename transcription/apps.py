from django.apps import AppConfig


class TranscriptionConfig(AppConfig):
    name = "transcription"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Register the transcription job kind: the reaper, replay, SSE, dashboard and videos API find it here."""
        from ecg.jobs import JobKind, register_kind
        from transcription import runner, selectors, services
        from transcription.models import TranscriptionJob

        register_kind(JobKind(
            name="transcription", model=TranscriptionJob, queue="transcription", enqueue=services.enqueue,
            run=runner.run, replay=services.transcription_replay, cancel=services.transcription_cancel,
            owned_by=selectors.job_get, status_payload=selectors.status_payload, engine_field="engine",
            clock_fields=("estimated_time_remaining",)))
