"""manage.py purge_media [--older-than-days N] [--dry-run]: delete old uploads and render outputs."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = ("Delete uploads (rows, files, jobs and outputs made from them) and render outputs older than N days "
            "(default ECG_RETENTION_DAYS). Files of queued or processing jobs are never deleted. "
            "The rules are in ops/retention.py.")

    def add_arguments(self, parser):
        parser.add_argument("--older-than-days", type=int, default=None,
                            help=f"age in days (default ECG_RETENTION_DAYS={settings.RETENTION_DAYS})")
        parser.add_argument("--dry-run", action="store_true", help="only report what would be deleted")

    def handle(self, *args, older_than_days: int | None, dry_run: bool, **options):
        from ops.retention import purge

        days = settings.RETENTION_DAYS if older_than_days is None else older_than_days
        if days < 1:
            raise CommandError("--older-than-days must be at least 1")
        report = purge(older_than_days=days, dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        for key in report.videos:
            self.stdout.write(f"upload {key}")
        for key in report.outputs:
            self.stdout.write(f"render output {key}")
        for path in report.partial_uploads:
            self.stdout.write(f"partial upload {path}")
        self.stdout.write(
            f"{verb} {len(report.videos)} upload(s), {len(report.outputs)} render output(s), "
            f"{report.render_rows} render row(s); {report.bytes_freed / 1e6:.1f} MB; older than {days} day(s); "
            f"{report.skipped_active} kept for running jobs")
        if report.storage_errors:
            self.stderr.write(f"{len(report.storage_errors)} file(s) could not be deleted (see the log)")
