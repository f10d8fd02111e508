"""Retention of uploaded media and render outputs (``manage.py purge_media``).

What goes, for a cutoff ``now - older_than_days``:

* an **upload** (the Video row, its stored file, every job made from it and their render outputs) when the
  video and every job made from it were created before the cutoff, none of them is queued or processing,
  and none of its renders counts toward the current month's render quota (quotas count render rows; a purge
  must not hand renders back);
* a **render output** (the stored file; ``output_key`` is cleared, so the job's status has no download URL)
  when its job finished before the cutoff, even if the source video is kept;
* a **render row** whose output went when it was created before the cutoff and before the quota month.

Queued and processing jobs are never touched, nor are their files: each video is re-checked under a row
lock (the lock ``transcription_request`` takes too) right before it is deleted. Rows go first and files
after the commit: a failure in between leaves an orphaned object (logged), never a row without its file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from ecg.jobs import ACTIVE, TERMINAL, JobKind, job_kinds
from uploads import storage
from uploads.models import Video

logger = logging.getLogger(__name__)


@dataclass
class PurgeReport:
    videos: list[str] = field(default_factory=list)  # keys of deleted uploads
    outputs: list[str] = field(default_factory=list)  # keys of deleted render outputs
    render_rows: int = 0
    bytes_freed: int = 0
    skipped_active: int = 0  # old uploads kept because a job on them is queued or processing
    storage_errors: list[str] = field(default_factory=list)
    partial_uploads: list[str] = field(default_factory=list)  # stale .upload-* files (a crash mid-upload)


def quota_month_start(now: datetime) -> datetime:
    """Start of the current render-quota month (rendering.quotas counts from here)."""
    local = now.astimezone(ZoneInfo(settings.QUOTA_TIME_ZONE))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def _video_kinds() -> list[JobKind]:
    """The registered job kinds made from an upload."""
    return [kind for kind in job_kinds() if kind.video_field]


def _recent(kind: JobKind, cutoff: datetime, month_start: datetime) -> Q:
    """Jobs too young to go: after the cutoff, or (for kinds a quota counts) in the current quota month."""
    recent = Q(created_at__gte=cutoff)
    return recent | Q(created_at__gte=month_start) if kind.counts_toward_quota else recent


def _video_is_purgeable(cutoff: datetime, month_start: datetime) -> Q:
    """Filter for videos whose whole history is older than the cutoff and outside the quota month."""
    purgeable = Q(created_at__lt=cutoff)
    for kind in _video_kinds():
        recent = kind.model.objects.filter(_recent(kind, cutoff, month_start), **{kind.video_field: OuterRef("pk")})
        purgeable &= ~Exists(recent)
    return purgeable


def _has_active_job(video_id: int) -> bool:
    return any(kind.model.objects.filter(status__in=ACTIVE, **{f"{kind.video_field}_id": video_id}).exists()
               for kind in _video_kinds())


def _size(key: str) -> int:
    try:
        return storage.size(key) if storage.exists(key) else 0
    except Exception:
        return 0


def _delete_files(keys: list[str], report: PurgeReport) -> None:
    for key in keys:
        try:
            storage.delete(key)
        except Exception as exc:
            logger.warning("purge: could not delete %s (left orphaned): %s", key, exc)
            report.storage_errors.append(key)


def purge(*, older_than_days: int, dry_run: bool = False, now: datetime | None = None) -> PurgeReport:
    now = now or timezone.now()
    cutoff = now - timedelta(days=older_than_days)
    month_start = quota_month_start(now)
    report = PurgeReport()

    # 1. Whole uploads.
    candidates = Video.objects.filter(_video_is_purgeable(cutoff, month_start)).order_by("created_at")
    for video_id in candidates.values_list("pk", flat=True).iterator():
        if _has_active_job(video_id):
            report.skipped_active += 1
            continue
        with transaction.atomic():
            video = Video.objects.select_for_update().filter(_video_is_purgeable(cutoff, month_start),
                                                             pk=video_id).first()
            if video is None or _has_active_job(video_id):  # changed since the scan: keep it
                continue
            keys = [video.key]
            for kind in _video_kinds():
                keys += kind.files(kind.model.objects.filter(**{kind.video_field: video}))
            freed = sum(_size(k) for k in keys)
            if not dry_run:
                video.delete()
                transaction.on_commit(lambda keys=keys: _delete_files(keys, report))
        report.videos.append(video.key)
        report.bytes_freed += freed
        logger.info("purge%s: upload %s (%s, %s bytes with outputs)", " (dry run)" if dry_run else "", video.pk,
                    video.key, freed)

    # 2. Job outputs (render files) of kept uploads.
    for kind in job_kinds():
        for field_name in kind.file_fields:
            _purge_outputs(kind, field_name, cutoff, dry_run, report)

    # 3. Rows whose outputs are gone and which no quota counts any more (kinds that own files).
    for kind in job_kinds():
        if not kind.file_fields:
            continue
        before = min(cutoff, month_start) if kind.counts_toward_quota else cutoff
        old_rows = kind.model.objects.filter(status__in=TERMINAL, created_at__lt=before,
                                             **{field_name: "" for field_name in kind.file_fields})
        if dry_run:
            report.render_rows += old_rows.count()
        else:
            report.render_rows += old_rows.delete()[1].get(kind.label, 0)
    _purge_partial_uploads(dry_run, report)
    return report


def _purge_partial_uploads(dry_run: bool, report: PurgeReport) -> None:
    """Partial uploads nobody writes to any more (a server crash or kill mid-upload): never under a key."""
    for path in storage.partial_uploads(older_than=settings.PARTIAL_UPLOAD_MAX_AGE):
        try:
            size = path.stat().st_size
            if not dry_run:
                path.unlink()
        except FileNotFoundError:
            continue
        report.partial_uploads.append(str(path))
        report.bytes_freed += size
        logger.info("purge%s: partial upload %s", " (dry run)" if dry_run else "", path)


def _purge_outputs(kind: JobKind, field_name: str, cutoff: datetime, dry_run: bool, report: PurgeReport) -> None:
    """Delete the files in ``field_name`` of finished jobs older than the cutoff and clear the field."""
    old_outputs = kind.model.objects.filter(status__in=TERMINAL).exclude(**{field_name: ""}).filter(
        Q(finished_at__lt=cutoff) | Q(finished_at__isnull=True, created_at__lt=cutoff))
    for job in old_outputs.only("pk", field_name).iterator():
        key = getattr(job, field_name)
        freed = _size(key)
        if not dry_run:
            still = kind.model.objects.filter(pk=job.pk, status__in=TERMINAL, **{field_name: key})
            if not still.update(**{field_name: ""}):
                continue  # replayed meanwhile: its output is live again
            _delete_files([key], report)
        report.outputs.append(key)
        report.bytes_freed += freed
        logger.info("purge%s: %s output of job %s (%s)", " (dry run)" if dry_run else "", kind.name, job.pk, key)
