"""Plugin resolution: the configured plugin origin first, then the catalogue's folders, then built-ins.

A plugin is a folder `name@version/` with `manifest.json` and an ES module entry. The caller passes
the animation catalogue's published plugins as local folders (`plugin_dirs`; the pipeline has no
Django); the built-in folder holds only the render-only `ecg-*` plugins. Files fetched from
the origin are cached on disk per name@version (under `<work_dir>/ecg-plugin-cache/`), so the render
page only ever loads local files. A plugin found nowhere, or whose manifest is unusable, raises
RENDER_PLUGIN_NOT_FOUND naming it; a module that fails to import is reported by the page the same way.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import RENDER_PLUGIN_NOT_FOUND, RenderError
from .scenario import split_plugin_name

logger = logging.getLogger(__name__)

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "plugins"
SAFE_REL_PATH = re.compile(r"^(?!/)(?!.*(?:^|/)\.\.?(?:/|$))[A-Za-z0-9._@/-]{1,200}$")
MAX_PLUGIN_FILE = 8 * 1024 * 1024
FETCH_TIMEOUT = 15


@dataclass(frozen=True)
class ResolvedPlugin:
    name: str
    version: str
    directory: str  # local folder holding manifest.json + entry (+ assets)
    entry: str  # path of the entry module relative to `directory`
    manifest: dict
    source: str  # "origin" | "catalogue" | "builtin"
    origin_base: str = ""  # "{origin}/plugins/{name@version}/" when fetched, for lazily fetched assets

    @property
    def full_name(self) -> str:
        return f"{self.name}@{self.version}"


def _fail(full: str, why: str) -> RenderError:
    return RenderError(RENDER_PLUGIN_NOT_FOUND, f"plugin {full} could not be loaded: {why}", {"plugin": full})


def validate_manifest(manifest: Any, name: str, version: str) -> str | None:
    """Return why the manifest is unusable, or None."""
    if not isinstance(manifest, dict):
        return "manifest.json is not a JSON object"
    if manifest.get("name") != name or manifest.get("version") != version:
        return f"manifest names {manifest.get('name')}@{manifest.get('version')}"
    api = manifest.get("pluginApi")
    if not (isinstance(api, str) and api.split(".")[0] == "3"):
        return 'manifest pluginApi must be "3.0"'
    entry = manifest.get("entry", "index.mjs")
    if not (isinstance(entry, str) and SAFE_REL_PATH.match(entry) and entry.endswith((".mjs", ".js"))):
        return "manifest entry must be a relative .mjs/.js path"
    schema = manifest.get("schema", {})
    if not isinstance(schema, dict):
        return "manifest schema must be an object"
    for key, field in schema.items():
        if not isinstance(field, dict) or field.get("type") not in (
            "string",
            "number",
            "integer",
            "boolean",
            "array",
            "object",
        ):
            return f"manifest schema field {key!r} needs a valid type"
    return None


def _fetch(url: str) -> bytes:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"unsupported plugin URL scheme: {url}")
    req = urllib.request.Request(url, headers={"User-Agent": "ecg-renderer"})  # noqa: S310 - scheme checked above
    with urllib.request.urlopen(req, timeout=FETCH_TIMEOUT) as resp:  # noqa: S310
        data = resp.read(MAX_PLUGIN_FILE + 1)
    if len(data) > MAX_PLUGIN_FILE:
        raise ValueError("plugin file too large")
    return data


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    Path(tmp).replace(path)


def cache_dir(work_dir: str) -> Path:
    return Path(work_dir) / "ecg-plugin-cache"


def fetch_origin_file(plugin: ResolvedPlugin, rel: str) -> Path | None:
    """Fetch (once) another file of an origin plugin, e.g. an asset the module asks for."""
    if plugin.source != "origin" or not SAFE_REL_PATH.match(rel):
        return None
    target = Path(plugin.directory) / rel
    if target.is_file():
        return target
    try:
        _atomic_write(target, _fetch(plugin.origin_base + rel))
    except (OSError, ValueError, urllib.error.URLError) as exc:
        logger.warning("plugin %s: could not fetch %s: %s", plugin.full_name, rel, exc)
        return None
    return target


def _from_origin(origin: str, name: str, version: str, work_dir: str) -> ResolvedPlugin | None:
    full = f"{name}@{version}"
    base = f"{origin.rstrip('/')}/plugins/{full}/"
    folder = cache_dir(work_dir) / full
    manifest_path = folder / "manifest.json"
    if manifest_path.is_file():
        manifest = _load_manifest(manifest_path.read_text("utf-8"), name, version)
    else:
        try:
            raw = _fetch(base + "manifest.json")
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise _fail(full, f"plugin origin answered HTTP {exc.code}") from exc
        except (OSError, ValueError, urllib.error.URLError) as exc:
            raise _fail(full, f"plugin origin unreachable ({exc})") from exc
        manifest = _load_manifest(raw, name, version)  # before caching: an invalid one is never cached
        entry = manifest.get("entry", "index.mjs")
        try:
            entry_bytes = _fetch(base + entry)
        except (OSError, ValueError, urllib.error.URLError) as exc:
            raise _fail(full, f"entry {entry} could not be fetched ({exc})") from exc
        _atomic_write(folder / entry, entry_bytes)
        _atomic_write(manifest_path, raw)  # last: its presence marks a complete cache entry
    return ResolvedPlugin(
        name, version, str(folder), manifest.get("entry", "index.mjs"), manifest, "origin", origin_base=base
    )


def _load_manifest(raw: str | bytes, name: str, version: str) -> dict:
    """Parse and validate a plugin's manifest.json; a bad one fails the render with its reason."""
    full = f"{name}@{version}"
    try:
        manifest = json.loads(raw)
    except ValueError as exc:
        raise _fail(full, "manifest.json is not valid JSON") from exc
    why = validate_manifest(manifest, name, version)
    if why:
        raise _fail(full, why)
    return manifest


def _local(name: str, version: str, folder: Path, source: str) -> ResolvedPlugin | None:
    full = f"{name}@{version}"
    manifest_path = folder / "manifest.json"
    if not manifest_path.is_file():
        return None
    manifest = _load_manifest(manifest_path.read_text("utf-8"), name, version)
    entry = manifest.get("entry", "index.mjs")
    if not (folder / entry).is_file():
        raise _fail(full, f"entry {entry} is missing")
    return ResolvedPlugin(name, version, str(folder), entry, manifest, source)


def resolve_plugins(
    names: list[str],
    *,
    plugin_origin: str = "",
    work_dir: str = "/tmp",  # noqa: S108
    builtin_dir: Path | None = None,
    plugin_dirs: Mapping[str, str] | None = None,
) -> list[ResolvedPlugin]:
    """Resolve every plugin (origin when configured, catalogue, built-in); raise on the first missing."""
    resolved = []
    for full in names:
        try:
            name, version = split_plugin_name(full)
        except ValueError as exc:
            raise _fail(full, "not a name@version plugin name") from exc
        plugin = None
        if plugin_origin:
            plugin = _from_origin(plugin_origin, name, version, work_dir)
        if plugin is None and plugin_dirs and full in plugin_dirs:
            plugin = _local(name, version, Path(plugin_dirs[full]), "catalogue")
        if plugin is None:
            plugin = _local(name, version, (builtin_dir or BUILTIN_DIR) / full, "builtin")
        if plugin is None:
            where = "among the published animations or the built-in plugins"
            if plugin_origin:
                where = f"at {plugin_origin}, {where}"
            raise RenderError(RENDER_PLUGIN_NOT_FOUND, f"plugin {full} was not found {where}", {"plugin": full})
        resolved.append(plugin)
    return resolved
