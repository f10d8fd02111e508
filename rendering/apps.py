from django.apps import AppConfig


class RenderingConfig(AppConfig):
    name = "rendering"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Register the render job kind: the reaper, replay, SSE, dashboard and videos API find it here."""
        from ecg.jobs import JobKind, register_kind
        from rendering import runner, selectors, services
        from rendering.models import RenderJob

        register_kind(JobKind(
            name="render", model=RenderJob, queue="render", enqueue=services.enqueue, run=runner.run,
            replay=services.render_replay, cancel=services.render_cancel, owned_by=selectors.job_get,
            status_payload=selectors.status_payload, file_fields=("output_key",), engine_field="encoder",
            counts_toward_quota=True, clock_fields=("estimatedTimeRemaining", "downloadUrl")))
