"""Reads of the animation catalogue: the asset store list, favorites, plugin files, the chatbot's view."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db.models import Count, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from assets.catalogue import BUNDLED_DIR
from assets.models import Animation, Favorite
from rendering.pipeline.scenario import PLUGIN_NAME_RE


def is_plugin_key(plugin_key: object) -> bool:
    """A well-formed `name@version`. Anything else (NUL bytes, junk from a URL or a body) can never be a
    catalogue key, so callers answer "not found" before asking the database: PostgreSQL refuses NUL in text."""
    return isinstance(plugin_key, str) and PLUGIN_NAME_RE.match(plugin_key) is not None


def _with_likes(qs: QuerySet[Animation]) -> QuerySet[Animation]:
    likes = (Favorite.objects.filter(plugin_key=OuterRef("plugin_key")).order_by().values("plugin_key")
             .annotate(n=Count("id")).values("n"))
    return qs.annotate(likes=Coalesce(Subquery(likes), Value(0)))


def asset_list(*, user=None, category: str | None = None, is_pro: bool | None = None) -> list[Animation]:
    """Published animations (oldest first, like the editor's catalogue) with `likes` and `is_favorite`."""
    qs = Animation.objects.filter(is_published=True)
    if category:
        qs = qs.filter(category__iexact=category)
    if is_pro is not None:
        qs = qs.filter(is_pro=is_pro)
    rows = list(_with_likes(qs).order_by("id"))
    mark_favorites(rows, user)
    return rows


def mark_favorites(rows: list[Animation], user) -> None:
    keys = favorite_keys(user) if user is not None and user.is_authenticated else set()
    for row in rows:
        row.is_favorite = row.plugin_key in keys


def favorite_keys(user) -> set[str]:
    return set(Favorite.objects.filter(user=user).values_list("plugin_key", flat=True))


def favorite_assets(*, user) -> list[Animation]:
    """The caller's favorites that are published, most recently favorited first."""
    order = {k: i for i, k in enumerate(Favorite.objects.filter(user=user).values_list("plugin_key", flat=True))}
    rows = list(_with_likes(Animation.objects.filter(is_published=True, plugin_key__in=order)))
    rows.sort(key=lambda r: order[r.plugin_key])
    for row in rows:
        row.is_favorite = True
    return rows


def favorites_of(*, user) -> QuerySet[Favorite]:
    return Favorite.objects.filter(user=user)


def likes_of(plugin_key: str) -> int:
    if not is_plugin_key(plugin_key):
        return 0
    return Favorite.objects.filter(plugin_key=plugin_key).count()


def get_animation(plugin_key: str, *, published_only: bool = True) -> Animation | None:
    if not is_plugin_key(plugin_key):
        return None
    qs = Animation.objects.filter(plugin_key=plugin_key)
    if published_only:
        qs = qs.filter(is_published=True)
    return qs.first()


def published_animations() -> list[dict[str, Any]]:
    """Every published animation with what a caller needs to apply it: key, name, type, titles,
    description, category, default window and the parameter schema (the manifest's).

    For the chatbot (and anything else that writes scenarios): `key` goes into a pluginChain entry's
    `name`, `params` follow `schema`, `timeOffset` is the editor's default window for the word.
    """
    out = []
    for row in Animation.objects.filter(is_published=True).order_by("id"):
        m = row.manifest or {}
        out.append({
            "key": row.plugin_key, "name": row.name, "version": row.version, "type": m.get("type", "dom"),
            "title": row.title, "titleEn": row.title_en, "description": row.description,
            "descriptionEn": row.description_en, "category": row.category, "tags": list(row.tags or []),
            "timeOffset": m.get("timeOffset"), "schema": m.get("schema") or {},
        })
    return out


@dataclass(frozen=True)
class PluginFile:
    path: str
    local: Path | None  # bundled: a file in the repository
    storage_key: str | None  # uploaded: a key in default storage


def plugin_file(animation: Animation, rel: str) -> PluginFile | None:
    """A file of the animation's plugin folder, or None: only files that are part of the plugin."""
    if animation.source == Animation.Source.BUNDLED:
        folder = (BUNDLED_DIR / animation.plugin_key).resolve()
        target = (folder / rel).resolve()
        if folder not in target.parents or not target.is_file():
            return None
        return PluginFile(rel, target, None)
    if rel not in (animation.files or {}):
        return None
    return PluginFile(rel, None, storage_key(animation.plugin_key, rel))


def storage_key(plugin_key: str, rel: str) -> str:
    return f"plugins/{plugin_key}/{rel}"

