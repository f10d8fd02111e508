"""How the catalogue plugs into rendering without rendering importing it (see rendering.plugin_sources)."""

from __future__ import annotations


def _on_render_created(sender, job, plugins: list[str], **kwargs) -> None:
    from assets.services import record_usage

    record_usage(plugins=plugins, job_id=str(job.pk))


def _provider(names: list[str], work_dir):
    from assets.services import plugin_dirs_for

    return plugin_dirs_for(names, work_dir)


def connect() -> None:
    from rendering.plugin_sources import register_plugin_provider
    from rendering.signals import render_created

    render_created.connect(_on_render_created, dispatch_uid="assets-usage-count")
    register_plugin_provider(_provider)
