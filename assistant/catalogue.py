"""The catalogue of animations the assistant may apply: plugin keys, descriptions and parameter schemas.

``published_animations()`` is the one place the assistant reads it from: the asset catalogue's selector
(`assets.selectors.published_animations`, the published rows with their manifests' schemas), read once per
chat turn into a ``Catalogue``. ``Catalogue.from_folder`` builds one from plugin folders on disk, for tools
that run without a database (bench/chatbot.py).
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

_HEX = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")


@dataclass(frozen=True)
class Animation:
    """One published animation: its key (``name@version``) and the manifest facts the assistant needs."""

    key: str
    name: str
    version: str
    title: str
    description: str
    schema: dict[str, Any] = field(default_factory=dict)
    default_offset: list[Any] | None = None

    def defaults(self) -> dict[str, Any]:
        return {k: v["default"] for k, v in self.schema.items() if isinstance(v, dict) and "default" in v}


def _from_manifest(manifest: dict[str, Any]) -> Animation | None:
    name, version = manifest.get("name"), manifest.get("version")
    if not (isinstance(name, str) and isinstance(version, str)):
        return None
    schema = manifest.get("schema") if isinstance(manifest.get("schema"), dict) else {}
    offset = manifest.get("timeOffset")
    return Animation(key=f"{name}@{version}", name=name, version=version,
                     title=str(manifest.get("title") or name),
                     description=str(manifest.get("description") or ""), schema=schema,
                     default_offset=list(offset) if isinstance(offset, list) and len(offset) == 2 else None)


def _from_folder(folder: Path) -> tuple[Animation, ...]:
    out: list[Animation] = []
    for manifest_path in sorted(folder.glob("*@*/manifest.json")):
        try:
            animation = _from_manifest(json.loads(manifest_path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            logger.warning("assistant: unreadable plugin manifest %s", manifest_path)
            continue
        if animation is not None:
            out.append(animation)
    return tuple(out)


def published_animations() -> tuple[Animation, ...]:
    """Every animation users may apply: the asset catalogue's published rows (a database read)."""
    from assets.selectors import published_animations as catalogue_rows

    out = []
    for row in catalogue_rows():
        offset = row.get("timeOffset")
        out.append(Animation(key=row["key"], name=row["name"], version=row["version"],
                             title=str(row.get("titleEn") or row.get("title") or row["name"]),
                             description=str(row.get("descriptionEn") or row.get("description") or ""),
                             schema=row.get("schema") or {},
                             default_offset=list(offset) if isinstance(offset, list) and len(offset) == 2 else None))
    return tuple(out)


class Catalogue:
    """One snapshot of the published animations, looked up by key for one chat turn."""

    def __init__(self, animations: tuple[Animation, ...] | list[Animation]):
        self.animations = tuple(sorted(animations, key=lambda a: a.key))
        self.by_key = {a.key: a for a in self.animations}

    @classmethod
    def load(cls) -> Catalogue:
        return cls(published_animations())

    @classmethod
    def from_folder(cls, folder: Path) -> Catalogue:
        """From ``name@version/manifest.json`` folders (no database), e.g. ``assets.catalogue.BUNDLED_DIR``."""
        return cls(_from_folder(folder))

    def resolve(self, name: Any) -> Animation | None:
        """The animation a chain entry names: ``name@version``; a bare name means ``@2.0.0`` (the editor's
        rule), or the only/newest version we have when there is no 2.0.0 (a model's slip, repaired)."""
        if not isinstance(name, str):
            return None
        if name in self.by_key:
            return self.by_key[name]
        if "@" in name:
            return None
        if f"{name}@2.0.0" in self.by_key:
            return self.by_key[f"{name}@2.0.0"]
        matches = sorted((a for a in self.animations if a.name == name), key=lambda a: _semver(a.version))
        return matches[-1] if matches else None


def _semver(version: str) -> tuple:
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("-")[0].split("."))


def resolve_key(name: Any) -> Animation | None:
    return Catalogue.load().resolve(name)


# --- parameters --------------------------------------------------------------------------------------
def check_params(animation: Animation, params: Any) -> tuple[dict[str, Any], list[str]]:
    """Repair ``params`` against the manifest schema: drop unknown keys, clamp numbers, refuse bad values.

    Returns the repaired params and the problems that could not be repaired (each a short sentence);
    a value that is a ``define.*`` reference is kept as is (the renderer resolves it).
    """
    if params is None:
        return {}, []
    if not isinstance(params, dict):
        return {}, ["params must be an object"]
    fixed: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in params.items():
        spec = animation.schema.get(key)
        if not isinstance(spec, dict):
            continue  # unknown parameter: the plugin ignores it, so drop it rather than refuse the edit
        if isinstance(value, str) and value.startswith("define."):
            fixed[key] = value
            continue
        ok, repaired, why = _check_value(spec, value)
        if ok:
            fixed[key] = repaired
        else:
            problems.append(f"{key}: {why}")
    return fixed, problems


def _check_value(spec: dict[str, Any], value: Any) -> tuple[bool, Any, str]:
    kind = spec.get("type")
    if "enum" in spec and isinstance(spec["enum"], list) and value not in spec["enum"]:
        return False, None, f"must be one of {', '.join(map(str, spec['enum']))}"
    if kind == "number":
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                return False, None, "must be a number"
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return False, None, "must be a number"
        lo, hi = spec.get("min"), spec.get("max")
        if isinstance(lo, int | float) and value < lo:
            value = lo
        if isinstance(hi, int | float) and value > hi:
            value = hi
        return True, value, ""
    if kind == "boolean":
        if isinstance(value, bool):
            return True, value, ""
        if value in ("true", "false"):
            return True, value == "true", ""
        return False, None, "must be true or false"
    if kind == "string":
        if not isinstance(value, str):
            return False, None, "must be a string"
        pattern = spec.get("pattern")
        if isinstance(pattern, str):
            try:
                if not re.fullmatch(pattern, value):
                    return False, None, "has the wrong format"
            except re.error:
                pass
        return True, value, ""
    if kind == "object":
        if isinstance(value, dict):
            nested = spec.get("properties")
            if isinstance(nested, dict):
                out = {}
                for k, v in value.items():
                    sub = nested.get(k)
                    if isinstance(sub, dict):
                        ok, fixed, why = _check_value(sub, v)
                        if not ok:
                            return False, None, f"{k} {why}"
                        out[k] = fixed
                return True, out, ""
            return True, value, ""
        if isinstance(value, str):  # the editor's JSON textarea stores objects as JSON strings
            return True, value, ""
        return False, None, "must be an object"
    return True, value, ""


def is_colour(value: Any) -> bool:
    return isinstance(value, str) and bool(_HEX.match(value))
