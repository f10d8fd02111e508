"""Writes of the animation catalogue: favorites, usage counts, staff uploads, publishing, and the local
plugin folders a render needs."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import shutil
import tempfile
from pathlib import Path

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext_lazy as _

from assets.bundles import PluginBundle
from assets.catalogue import BUNDLED_DIR
from assets.models import Animation, Favorite
from assets.selectors import get_animation, is_plugin_key, storage_key
from ecg.exceptions import ApplicationError, NotFoundError

logger = logging.getLogger(__name__)


class AnimationNotFound(NotFoundError):
    code = "ASSET_NOT_FOUND"


def _not_found(plugin_key: str) -> AnimationNotFound:
    # repr() keeps a NUL or control character readable (and storable) in the envelope's details.
    shown = plugin_key if is_plugin_key(plugin_key) else repr(plugin_key)[:120]
    return AnimationNotFound(message=_("No published animation has this key."), details={"pluginKey": shown})


def _require_key(plugin_key: str) -> None:
    """A malformed key (not `name@version`) names no animation: 404 on every favorites route, adding or
    removing, before any query (PostgreSQL would raise on a NUL byte)."""
    if not is_plugin_key(plugin_key):
        raise _not_found(plugin_key)


def _require_published(plugin_key: str) -> Animation:
    animation = get_animation(plugin_key)
    if animation is None:
        raise _not_found(plugin_key)
    return animation


def favorite_set(*, user, plugin_key: str, favorite: bool) -> bool:
    """Add or remove a favorite (idempotent); adding needs a published animation. Returns the new state."""
    _require_key(plugin_key)
    if favorite:
        _require_published(plugin_key)
        with contextlib.suppress(IntegrityError), transaction.atomic():
            Favorite.objects.get_or_create(user=user, plugin_key=plugin_key)
    else:
        Favorite.objects.filter(user=user, plugin_key=plugin_key).delete()
    return favorite


def favorite_toggle(*, user, plugin_key: str) -> bool:
    _require_key(plugin_key)
    if Favorite.objects.filter(user=user, plugin_key=plugin_key).exists():
        return favorite_set(user=user, plugin_key=plugin_key, favorite=False)
    return favorite_set(user=user, plugin_key=plugin_key, favorite=True)


def record_usage(*, plugins: list[str], job_id: str | None = None) -> int:
    """Count one use per animation a newly created render job names; returns the rows counted."""
    keys = sorted(set(plugins))
    if not keys:
        return 0
    counted = Animation.objects.filter(plugin_key__in=keys).update(usage_count=F("usage_count") + 1)
    logger.info("render job %s: usage counted for %d animation(s)", job_id, counted)
    return counted


def set_published(*, animations, published: bool) -> int:
    return Animation.objects.filter(pk__in=[a.pk for a in animations]).update(is_published=published)


def animation_create_from_bundle(*, bundle: PluginBundle, title: str, category: str, **fields) -> Animation:
    """Store an uploaded plugin's files and add it to the catalogue, unpublished (staff publish it).

    A version's folder never changes once stored (the origin caches it as immutable): a key that is
    already in the catalogue is refused. Files are written before the row; a failure removes them again.
    """
    key = bundle.key
    if Animation.objects.filter(plugin_key=key).exists() or (BUNDLED_DIR / key).exists():
        raise ApplicationError("ASSET_EXISTS", _("This name@version is already in the catalogue; upload a new "
                                                 "version instead."), status=409, details={"pluginKey": key})
    written: list[str] = []
    try:
        for rel, data in sorted(bundle.files.items()):
            name = storage_key(key, rel)
            if default_storage.exists(name):
                default_storage.delete(name)  # left over from an earlier failed attempt
            saved = default_storage.save(name, ContentFile(data))
            written.append(saved)
            if saved != name:
                raise OSError(f"storage stored {name} as {saved}")
        with transaction.atomic():
            animation = Animation.objects.create(
                plugin_key=key, name=bundle.manifest["name"], version=bundle.manifest["version"], title=title,
                category=category, source=Animation.Source.UPLOAD, manifest=bundle.manifest,
                files=bundle.file_index(), is_published=False, **fields)
    except Exception:
        for name in written:
            with contextlib.suppress(Exception):
                default_storage.delete(name)
        raise
    logger.info("animation %s uploaded (%d files)", key, len(bundle.files))
    return animation


def plugin_dirs_for(names: list[str], work_dir: Path) -> dict[str, str]:
    """Local folders of the published animations among `names` (render worker side).

    Bundled animations are folders of this repository. Uploaded ones are copied once from storage
    into `<work_dir>/ecg-plugin-cache/catalogue/<key>-<digest>/` (the digest of the file index, so a
    re-uploaded key never reuses stale files), written to a temporary folder and renamed into place.
    """
    out: dict[str, str] = {}
    for animation in Animation.objects.filter(plugin_key__in=names, is_published=True):
        if animation.source == Animation.Source.BUNDLED:
            folder = BUNDLED_DIR / animation.plugin_key
            if (folder / "manifest.json").is_file():
                out[animation.plugin_key] = str(folder)
            continue
        out[animation.plugin_key] = str(_materialize(animation, work_dir))
    return out


def _materialize(animation: Animation, work_dir: Path) -> Path:
    digest = hashlib.sha256(repr(sorted((animation.files or {}).items())).encode()).hexdigest()[:16]
    base = Path(work_dir) / "ecg-plugin-cache" / "catalogue"
    folder = base / f"{animation.plugin_key}-{digest}"
    if (folder / "manifest.json").is_file():
        return folder
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=base, prefix=".tmp-"))
    try:
        for rel in animation.files or {}:
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with default_storage.open(storage_key(animation.plugin_key, rel), "rb") as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst)
        try:
            tmp.rename(folder)
        except OSError:
            if not (folder / "manifest.json").is_file():  # another worker won the race: use its copy
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return folder
