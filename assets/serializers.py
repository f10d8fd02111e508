"""Wire shapes of API.md section 7 (camelCase for the asset store, snake_case for the legacy favorites)."""

from __future__ import annotations

from django.utils import translation
from rest_framework import serializers


def _english() -> bool:
    return (translation.get_language() or "").startswith("en")


class AssetSerializer(serializers.Serializer):
    """One catalogue row as the editor reads it; title/description follow the request's language."""

    id = serializers.SerializerMethodField()
    title = serializers.SerializerMethodField()
    category = serializers.CharField()
    description = serializers.SerializerMethodField()
    pluginKey = serializers.CharField(source="plugin_key")  # noqa: N815 (wire name)
    thumbnailPath = serializers.CharField(source="thumbnail_path")  # noqa: N815
    iconName = serializers.CharField(source="icon_name")  # noqa: N815
    authorId = serializers.CharField(source="author_id")  # noqa: N815
    authorName = serializers.CharField(source="author_name")  # noqa: N815
    isPro = serializers.BooleanField(source="is_pro")  # noqa: N815
    price = serializers.FloatField()
    rating = serializers.IntegerField()
    downloads = serializers.IntegerField()
    likes = serializers.IntegerField(help_text="Users who favorited it")
    usageCount = serializers.IntegerField(source="usage_count", help_text="Render jobs that used it")  # noqa: N815
    tags = serializers.ListField(child=serializers.CharField())
    isFavorite = serializers.BooleanField(source="is_favorite", help_text="The caller's; false when anonymous")  # noqa: N815
    createdAt = serializers.DateTimeField(source="created_at")  # noqa: N815
    updatedAt = serializers.DateTimeField(source="updated_at")  # noqa: N815

    def get_id(self, obj) -> str:
        return str(obj.pk)

    def get_title(self, obj) -> str:
        return (obj.title_en if _english() and obj.title_en else obj.title) or obj.name

    def get_description(self, obj) -> str:
        return obj.description_en if _english() and obj.description_en else obj.description


class AssetListSerializer(serializers.Serializer):
    assets = AssetSerializer(many=True)


class AssetListQuerySerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=["Dynamic", "Smooth", "Unique"], required=False)
    is_pro = serializers.BooleanField(required=False, allow_null=True, default=None)


class FavoriteStateSerializer(serializers.Serializer):
    isFavorite = serializers.BooleanField()  # noqa: N815
    likes = serializers.IntegerField()


class LegacyFavoriteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    user_id = serializers.IntegerField()
    plugin_key = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class LegacyFavoriteListSerializer(serializers.Serializer):
    favorites = LegacyFavoriteSerializer(many=True)
    total = serializers.IntegerField()


class LegacyFavoriteRequestSerializer(serializers.Serializer):
    plugin_key = serializers.CharField(max_length=255)


class LegacyToggleSerializer(serializers.Serializer):
    is_favorite = serializers.BooleanField()
    message = serializers.CharField()


class LegacyMessageSerializer(serializers.Serializer):
    is_favorite = serializers.BooleanField()
    message = serializers.CharField()
