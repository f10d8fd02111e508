"""Staff console of the catalogue: publish/unpublish, pro flag, metadata, favorites and usage counts,
and the plugin zip upload (validated before anything is stored)."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.db.models import Count, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from assets import services
from assets.forms import PluginUploadForm
from assets.models import Animation, Favorite
from ecg.exceptions import ApplicationError


@admin.register(Animation)
class AnimationAdmin(admin.ModelAdmin):
    list_display = ["plugin_key", "title", "title_en", "category", "is_published", "is_pro", "likes", "usage_count",
                    "source", "thumbnail", "updated_at"]
    list_filter = ["is_published", "is_pro", "category", "source"]
    list_editable = ["is_published", "is_pro"]
    search_fields = ["plugin_key", "title", "title_en", "description"]
    readonly_fields = ["plugin_key", "name", "version", "source", "usage_count", "likes", "thumbnail",
                       "manifest_pretty", "files", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["plugin_key", "name", "version", "source", "is_published", "thumbnail"]}),
        ("Store listing", {"fields": ["title", "title_en", "category", "description", "description_en", "icon_name",
                                      "tags", "thumbnail_path", "author_id", "author_name"]}),
        ("Pricing", {"fields": ["is_pro", "price", "rating", "downloads"]}),
        ("Counts", {"fields": ["likes", "usage_count"]}),
        ("Plugin", {"classes": ["collapse"], "fields": ["manifest_pretty", "files", "created_at", "updated_at"]}),
    ]
    actions = ["publish", "unpublish", "mark_pro", "mark_free"]

    def get_queryset(self, request):
        likes = (Favorite.objects.filter(plugin_key=OuterRef("plugin_key")).order_by().values("plugin_key")
                 .annotate(n=Count("id")).values("n"))
        return super().get_queryset(request).annotate(like_count=Coalesce(Subquery(likes), Value(0)))

    @admin.display(description="likes (favorites)", ordering="like_count")
    def likes(self, obj):
        return getattr(obj, "like_count", 0)

    @admin.display(description="thumbnail")
    def thumbnail(self, obj):
        if not obj.pk or not obj.is_published:
            return "—"
        url = reverse("plugin-file", args=[obj.plugin_key, obj.thumbnail_path])
        return format_html('<img src="{}" alt="" style="height:40px">', url)

    @admin.display(description="manifest")
    def manifest_pretty(self, obj):
        return format_html('<pre style="max-height:480px;overflow:auto">{}</pre>',
                           json.dumps(obj.manifest, indent=2, ensure_ascii=False))

    @admin.action(description="Publish (list in the asset store, serve and render)")
    def publish(self, request, queryset):
        n = services.set_published(animations=queryset, published=True)
        self.message_user(request, f"{n} animation(s) published.")

    @admin.action(description="Unpublish")
    def unpublish(self, request, queryset):
        n = services.set_published(animations=queryset, published=False)
        self.message_user(request, f"{n} animation(s) unpublished.")

    @admin.action(description="Mark as pro")
    def mark_pro(self, request, queryset):
        self.message_user(request, f"{queryset.update(is_pro=True)} animation(s) marked pro.")

    @admin.action(description="Mark as free")
    def mark_free(self, request, queryset):
        self.message_user(request, f"{queryset.update(is_pro=False)} animation(s) marked free.")

    def get_urls(self):
        return [path("upload/", self.admin_site.admin_view(self.upload_view), name="assets_animation_upload"),
                *super().get_urls()]

    def add_view(self, request, form_url="", extra_context=None):
        # An animation is its plugin folder: adding one means uploading it.
        return redirect("admin:assets_animation_upload")

    def upload_view(self, request):
        if not self.has_add_permission(request):
            return redirect("admin:index")
        form = PluginUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                animation = services.animation_create_from_bundle(
                    bundle=data["bundle"], title=data["title"], category=data["category"], title_en=data["title_en"],
                    description=data["description"], description_en=data["description_en"],
                    icon_name=data["icon_name"], tags=data["tags"].split(), is_pro=data["is_pro"],
                    author_id=str(request.user.pk), author_name=request.user.get_username())
            except ApplicationError as exc:
                form.add_error("bundle", f"Refused: {exc.message}")
            else:
                self.message_user(request, f"{animation.plugin_key} uploaded (unpublished). Check it, then publish it.",
                                  messages.SUCCESS)
                return redirect("admin:assets_animation_change", animation.pk)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "form": form,
                   "title": "Upload an animation plugin"}
        return TemplateResponse(request, "admin/assets/upload.html", context)


@admin.register(Favorite)
class FavoriteAdmin(admin.ModelAdmin):
    list_display = ["plugin_key", "user", "created_at"]
    list_filter = ["plugin_key"]
    search_fields = ["plugin_key", "user__email"]
    raw_id_fields = ["user"]
