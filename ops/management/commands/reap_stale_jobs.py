"""manage.py reap_stale_jobs [--dry-run] [--schedule]: recover jobs whose worker vanished (ops.reaper)."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Requeue processing jobs whose worker stopped heartbeating (or fail them with WORKER_LOST after "
            "ECG_JOB_MAX_ATTEMPTS claims). --schedule starts the periodic reaper actor instead.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="only list what would be done")
        parser.add_argument("--schedule", action="store_true",
                            help="start the periodic reaper on the 'default' queue unless it is already running")

    def handle(self, *args, dry_run: bool, schedule: bool, **options):
        from ops import reaper

        if schedule:
            started = reaper.ensure_scheduled()
            self.stdout.write(f"periodic reaper {'scheduled' if started else 'already scheduled'} "
                              f"(every {settings.REAPER_INTERVAL:g}s on queue 'default')")
            return
        result = reaper.reap(dry_run=dry_run)
        prefix = "would be " if dry_run else ""
        for label, job_id in result.requeued:
            self.stdout.write(f"{label} {job_id}: {prefix}requeued")
        for label, job_id in result.failed:
            self.stdout.write(f"{label} {job_id}: {prefix}failed WORKER_LOST")
        self.stdout.write(f"{len(result.requeued)} {prefix}requeued, {len(result.failed)} {prefix}failed "
                          f"(stale after {settings.JOB_HEARTBEAT_STALE_SECONDS:g}s, "
                          f"{settings.JOB_MAX_ATTEMPTS} attempts)")
