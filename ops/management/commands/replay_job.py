"""manage.py replay_job <job id> [--new] [--sync]: re-run a transcription or render job."""

from __future__ import annotations

import uuid

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

# (model label, replay service path, runner path) — rendering registers itself when installed.
JOB_KINDS = [
    ("transcription.TranscriptionJob", "transcription.services.transcription_replay", "transcription.runner.run"),
    ("rendering.RenderJob", "rendering.services.render_replay", "rendering.runner.run"),
]


class Command(BaseCommand):
    help = "Re-run a finished or failed job in place (or --new as a new job). --sync runs it in this process."

    def add_arguments(self, parser):
        parser.add_argument("job_id")
        parser.add_argument("--new", action="store_true", help="create a new job with the same inputs")
        parser.add_argument("--sync", action="store_true", help="run now in this process instead of enqueueing")

    def handle(self, *args, job_id: str, new: bool, sync: bool, **options):
        from django.utils.module_loading import import_string

        from ecg.exceptions import ApplicationError

        try:
            uuid.UUID(job_id)
        except ValueError as exc:
            raise CommandError(f"not a job id: {job_id}") from exc
        for label, replay_path, runner_path in JOB_KINDS:
            try:
                model = apps.get_model(label)
            except LookupError:
                continue
            job = model.objects.filter(pk=job_id).first()
            if job is None:
                continue
            try:
                job = import_string(replay_path)(job=job, new=new)
            except ApplicationError as exc:
                raise CommandError(f"{job_id}: {exc.message}") from exc
            if sync:
                import_string(runner_path)(str(job.pk))
                job.refresh_from_db()
                self.stdout.write(f"{label} {job.pk}: {job.status} {job.error_code}".rstrip())
            else:
                self.stdout.write(f"{label} {job.pk} queued")
            return
        raise CommandError(f"no job with id {job_id}")
