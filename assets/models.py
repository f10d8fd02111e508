"""The animation catalogue (the editor's asset store) and per-user favorites.

An animation is one MotionText plugin version, keyed `name@version`. Its files live either in this
repository (`assets/plugins/<key>/`, the 18 animations we ship) or in storage (a staff upload, under
`plugins/<key>/`). Favorites are keyed by the plugin key string, as in the editor's schema, so a
favorite survives an animation being unpublished and republished.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class Animation(models.Model):
    class Category(models.TextChoices):
        DYNAMIC = "Dynamic"
        SMOOTH = "Smooth"
        UNIQUE = "Unique"

    class Source(models.TextChoices):
        BUNDLED = "bundled", "shipped with the backend"
        UPLOAD = "upload", "uploaded by staff"

    plugin_key = models.CharField(max_length=255, unique=True, help_text="name@version, e.g. rotation@2.0.0")
    name = models.CharField(max_length=100, db_index=True)
    version = models.CharField(max_length=50)
    title = models.CharField(max_length=200, help_text="Korean title (the editor's default language)")
    title_en = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True, help_text="Korean description")
    description_en = models.TextField(blank=True)
    category = models.CharField(max_length=20, choices=Category.choices)
    thumbnail_path = models.CharField(max_length=255, default="assets/thumbnail.svg")
    icon_name = models.CharField(max_length=100, blank=True, help_text="react-icons Io5 name, e.g. IoSyncOutline")
    author_id = models.CharField(max_length=100, blank=True)
    author_name = models.CharField(max_length=200, blank=True)
    is_pro = models.BooleanField(default=False)
    price = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    rating = models.PositiveSmallIntegerField(default=5, validators=[MinValueValidator(1), MaxValueValidator(5)])
    downloads = models.PositiveIntegerField(default=0)
    tags = models.JSONField(default=list, blank=True)
    usage_count = models.PositiveIntegerField(default=0, editable=False,
                                              help_text="Render jobs created with this animation")
    is_published = models.BooleanField(default=False, db_index=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.UPLOAD)
    manifest = models.JSONField(default=dict, help_text="The plugin's manifest.json")
    files = models.JSONField(default=dict, editable=False,
                             help_text="Uploaded files: {relative path: {size, sha256}}; empty for bundled ones")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(rating__gte=1, rating__lte=5), name="animation_rating_1_5"),
        ]

    def __str__(self) -> str:
        return self.plugin_key

    @property
    def entry(self) -> str:
        return str(self.manifest.get("entry") or "index.mjs")


class Favorite(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="animation_favorites")
    plugin_key = models.CharField(max_length=255, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["user", "plugin_key"], name="favorite_user_plugin_key")]

    def __str__(self) -> str:
        return f"{self.user_id} ♥ {self.plugin_key}"
