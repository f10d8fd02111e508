"""Validation of an uploaded plugin folder (a zip): everything is checked in memory before anything is
stored, so a refused upload changes nothing.

Refused: not a zip, encrypted entries, symlinks or other non-regular files, absolute paths, `..`,
backslashes or odd characters in names, duplicate names, too many files, a file or the whole folder
over the size limits (measured while decompressing, so a zip bomb stops at the limit), file types a
plugin does not need, a manifest that is not a valid plugin API 3 manifest, a missing entry module or
thumbnail.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from rendering.pipeline.plugins import validate_manifest
from rendering.pipeline.scenario import PLUGIN_NAME_RE

MAX_ZIP_BYTES = 5 * 1024 * 1024
MAX_FILE_BYTES = 4 * 1024 * 1024
MAX_TOTAL_BYTES = 10 * 1024 * 1024
MAX_FILES = 200
ALLOWED_SUFFIXES = (".mjs", ".js", ".json", ".svg", ".png", ".jpg", ".jpeg", ".webp", ".gif", ".woff", ".woff2",
                    ".ttf", ".otf", ".css", ".txt", ".md")
PLUGIN_TYPES = ("dom", "channel", "hybrid")
_SAFE_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")


class BundleInvalid(Exception):
    """Why an uploaded plugin zip is refused (the message is shown to staff as is)."""


@dataclass(frozen=True)
class PluginBundle:
    manifest: dict[str, Any]
    files: dict[str, bytes]  # relative path -> content, manifest.json included

    @property
    def key(self) -> str:
        return f"{self.manifest['name']}@{self.manifest['version']}"

    def file_index(self) -> dict[str, dict[str, Any]]:
        return {path: {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                for path, data in sorted(self.files.items())}


def _check_name(name: str) -> str:
    if "\\" in name or name.startswith("/") or "\x00" in name:
        raise BundleInvalid(f"{name!r}: paths must be relative, with forward slashes")
    parts = name.rstrip("/").split("/")
    for part in parts:
        if part in ("", ".", ".."):
            raise BundleInvalid(f"{name!r}: paths may not contain '..', '.' or empty parts")
        if not _SAFE_PART.match(part):
            raise BundleInvalid(f"{name!r}: file names may use letters, digits, '.', '_', '-' and '@' only")
    return "/".join(parts)


def _read(zf: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    limit = min(MAX_FILE_BYTES, budget)
    with zf.open(info) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        if limit == budget:
            raise BundleInvalid(f"the plugin is larger than {MAX_TOTAL_BYTES // (1024 * 1024)} MB unpacked")
        raise BundleInvalid(f"{info.filename}: larger than {MAX_FILE_BYTES // (1024 * 1024)} MB")
    return data


def _strip_folder(names: list[str]) -> str:
    """A zip of the folder itself (`fadein@2.0.0/manifest.json`): the prefix to strip, else ''."""
    if "manifest.json" in names:
        return ""
    tops = {n.split("/", 1)[0] for n in names}
    if len(tops) == 1 and all("/" in n for n in names):
        return tops.pop() + "/"
    return ""


def check_manifest(manifest: Any, files: dict[str, bytes]) -> None:
    if not isinstance(manifest, dict):
        raise BundleInvalid("manifest.json must be a JSON object")
    name, version = manifest.get("name"), manifest.get("version")
    if not (isinstance(name, str) and isinstance(version, str) and PLUGIN_NAME_RE.match(f"{name}@{version}")):
        raise BundleInvalid('manifest.json needs "name" (letters, digits, ".", "_", "-") and a semver "version"')
    why = validate_manifest(manifest, name, version)
    if why:
        raise BundleInvalid(why)
    if manifest.get("type", "dom") not in PLUGIN_TYPES:
        raise BundleInvalid('manifest "type" must be dom, channel or hybrid')
    entry = str(manifest.get("entry") or "index.mjs")
    if entry not in files:
        raise BundleInvalid(f"the entry module {entry} is missing from the zip")
    if entry != "index.mjs" and "index.mjs" not in files:
        # The editor always fetches index.mjs, whatever the manifest's entry says.
        raise BundleInvalid("the editor loads index.mjs: the zip must contain it")
    offset = manifest.get("timeOffset")
    if offset is not None and not (isinstance(offset, list) and len(offset) == 2 and all(
            isinstance(v, int | float) and not isinstance(v, bool) or isinstance(v, str) and v.endswith("%")
            for v in offset)):
        raise BundleInvalid('manifest "timeOffset" must be [start, end] in seconds or "N%"')
    for key, field in (manifest.get("schema") or {}).items():
        if "default" not in field:
            raise BundleInvalid(f"manifest schema field {key!r} needs a default (the editor seeds every param)")


def read_bundle(data: bytes, *, thumbnail_path: str = "assets/thumbnail.svg") -> PluginBundle:
    """Validate a plugin zip; return its manifest and files, or raise BundleInvalid saying why."""
    if len(data) > MAX_ZIP_BYTES:
        raise BundleInvalid(f"the zip is larger than {MAX_ZIP_BYTES // (1024 * 1024)} MB")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise BundleInvalid("not a zip file") from exc
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if not infos:
            raise BundleInvalid("the zip is empty")
        if len(infos) > MAX_FILES:
            raise BundleInvalid(f"more than {MAX_FILES} files")
        for info in zf.infolist():
            mode = info.external_attr >> 16
            if info.flag_bits & 0x1:
                raise BundleInvalid(f"{info.filename}: encrypted entries are not accepted")
            if stat.S_ISLNK(mode):
                raise BundleInvalid(f"{info.filename}: symbolic links are not accepted")
            if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                raise BundleInvalid(f"{info.filename}: only regular files are accepted")
            _check_name(info.filename)
        prefix = _strip_folder([i.filename for i in infos])
        files: dict[str, bytes] = {}
        budget = MAX_TOTAL_BYTES
        for info in infos:
            rel = _check_name(info.filename[len(prefix):])
            if rel in files:
                raise BundleInvalid(f"{rel}: listed twice")
            if PurePosixPath(rel).suffix.lower() not in ALLOWED_SUFFIXES:
                raise BundleInvalid(f"{rel}: this file type is not accepted in a plugin")
            files[rel] = _read(zf, info, budget)
            budget -= len(files[rel])
    if "manifest.json" not in files:
        raise BundleInvalid("manifest.json is missing (at the top of the zip or of its one folder)")
    try:
        manifest = json.loads(files["manifest.json"].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BundleInvalid("manifest.json is not valid UTF-8 JSON") from exc
    check_manifest(manifest, files)
    if thumbnail_path not in files:
        raise BundleInvalid(f"the thumbnail {thumbnail_path} is missing (the asset store shows it)")
    if prefix and prefix.rstrip("/") != f"{manifest['name']}@{manifest['version']}":
        raise BundleInvalid(f"the folder {prefix.rstrip('/')} does not match the manifest's "
                            f"{manifest['name']}@{manifest['version']}")
    return PluginBundle(manifest=manifest, files=files)
