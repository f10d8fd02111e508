"""manage.py replay_job <job id> [--new] [--sync]: re-run a job of any registered kind."""

from __future__ import annotations

import uuid

from django.core.management.base import BaseCommand, CommandError

from ecg.exceptions import ApplicationError
from ecg.jobs import find_job


class Command(BaseCommand):
    help = "Re-run a finished or failed job in place (or --new as a new job). --sync runs it in this process."

    def add_arguments(self, parser):
        parser.add_argument("job_id")
        parser.add_argument("--new", action="store_true", help="create a new job with the same inputs")
        parser.add_argument("--sync", action="store_true", help="run now in this process instead of enqueueing")

    def handle(self, *args, job_id: str, new: bool, sync: bool, **options):
        try:
            uuid.UUID(job_id)
        except ValueError as exc:
            raise CommandError(f"not a job id: {job_id}") from exc
        found = find_job(job_id)
        if found is None:
            raise CommandError(f"no job with id {job_id}")
        kind, job = found
        try:
            job = kind.replay(job=job, new=new)
        except ApplicationError as exc:
            raise CommandError(f"{job_id}: {exc.message}") from exc
        if sync:
            kind.run(str(job.pk))
            job.refresh_from_db()
            self.stdout.write(f"{kind.label} {job.pk}: {job.status} {job.error_code}".rstrip())
        else:
            self.stdout.write(f"{kind.label} {job.pk} queued")
