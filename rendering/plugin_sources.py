"""Where a render finds its plugins besides a configured plugin origin: providers registered by apps.

The pipeline has no Django; before a render the worker asks every registered provider for local
folders of the plugins a scenario names (the animation catalogue registers one from its AppConfig, so
rendering never imports it: imports go downward only) and hands the answer to `render_video`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

# (plugin names "name@version", worker work dir) -> {name@version: local folder holding manifest + entry}
PluginProvider = Callable[[list[str], Path], dict[str, str]]
_providers: list[PluginProvider] = []


def register_plugin_provider(provider: PluginProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


def local_plugin_dirs(names: list[str], work_dir: Path) -> dict[str, str]:
    """Folders of the named plugins that some provider knows (published catalogue entries)."""
    found: dict[str, str] = {}
    for provider in _providers:
        wanted = [n for n in names if n not in found]
        if wanted:
            found.update(provider(wanted, work_dir))
    return found
