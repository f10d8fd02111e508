"""What a transcription worker does with one job id: fetch the media, run the pipeline, store the result."""

from __future__ import annotations

import contextlib
import functools
import logging

from django.conf import settings

from accounts.selectors import user_limits
from ecg.jobs import JobCancelled, JobFailure, JobReporter, TransientJobError, execute
from transcription.models import TranscriptionJob
from uploads import storage

logger = logging.getLogger(__name__)
MAX_RETRIES = 3


def pipeline_config():
    """The pipeline's settings, read from Django settings once per call (cheap)."""
    from transcription.pipeline import PipelineConfig

    return PipelineConfig(
        engine=settings.ASR_ENGINE, model=settings.ASR_MODEL, language_models=settings.ASR_LANGUAGE_MODELS,
        auto_languages=settings.ASR_AUTO_LANGUAGES, device=settings.ASR_DEVICE,
        compute_type=settings.ASR_COMPUTE_TYPE, detect_compute_type=settings.ASR_DETECT_COMPUTE_TYPE,
        batch_size=settings.ASR_BATCH_SIZE,
        cpu_threads=settings.ASR_CPU_THREADS, align_model=settings.ALIGN_MODEL,
        diarization_model=settings.DIARIZATION_MODEL, hf_token=settings.HF_TOKEN,
        speaker_threshold=settings.SPEAKER_THRESHOLD, emotion_model=settings.EMOTION_MODEL,
        work_dir=str(settings.WORK_DIR),
    )


def warm_up() -> dict:
    """Load and exercise every model this worker's configuration uses (called before it takes jobs)."""
    from transcription.pipeline.runner import warm_up as pipeline_warm_up

    return pipeline_warm_up(pipeline_config())


def run(job_id: str) -> None:
    execute(TranscriptionJob, job_id, functools.partial(_work, job_id), max_retries=MAX_RETRIES)


def _work(job_id: str, reporter: JobReporter) -> dict:
    from transcription.pipeline import PipelineCancelled, PipelineError, run_pipeline

    job = TranscriptionJob.objects.select_related("video", "owner").get(pk=job_id)
    reporter.progress(1, "downloading")
    settings.WORK_DIR.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        try:
            path = stack.enter_context(storage.local_copy(job.video.key))
        except FileNotFoundError as exc:
            raise JobFailure("MEDIA_INVALID", "The uploaded file is missing from storage.") from exc
        except Exception as exc:  # network/storage trouble: worth a retry
            raise TransientJobError(f"could not fetch {job.video.key}: {exc}") from exc

        timings: dict[str, float] = {}  # filled by the pipeline, which measures its stages

        def report(stage: str, fraction: float) -> None:
            reporter.progress(2 + int(fraction * 97), stage)

        logger.info("transcription job %s: running pipeline on %s", job_id, job.video.key)
        try:
            result = run_pipeline(str(path), language=job.language, config=pipeline_config(),
                                  max_duration=user_limits(job.owner).max_media_seconds, report=report,
                                  should_cancel=reporter.cancelled, stage_timings=timings)
        except PipelineCancelled as exc:
            raise JobCancelled(job_id) from exc
        except PipelineError as exc:
            raise JobFailure(exc.code, exc.message) from exc
    meta = result.get("metadata", {})
    reporter.progress(99, "finalizing")
    return {"result": result, "detected_language": result.get("language") or "", "engine": meta.get("engine", ""),
            "model_name": meta.get("model", ""), "device": meta.get("device", ""),
            "media_duration": meta.get("duration"), "stage_timings": timings}
