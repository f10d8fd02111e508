from django.urls import path

from assets import views

urlpatterns = [
    path("api/v1/assets", views.AssetListView.as_view(), name="asset-list"),
    path("api/v1/assets/favorites", views.FavoriteAssetsView.as_view(), name="asset-favorites"),
    path("api/v1/assets/<str:plugin_key>/favorite", views.AssetFavoriteView.as_view(), name="asset-favorite"),
    path("api/v1/favorites", views.LegacyFavoritesView.as_view(), name="favorites-legacy"),
    path("api/v1/favorites/toggle", views.LegacyFavoriteToggleView.as_view(), name="favorites-legacy-toggle"),
    path("plugins/<str:plugin_key>/<path:path>", views.plugin_file, name="plugin-file"),
]
