from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def _load_bundled(sender, using: str = "default", **kwargs) -> None:
    """Idempotent: the catalogue holds the animations we ship after every migrate (fresh installs too)."""
    from assets.catalogue import sync_bundled
    from assets.models import Animation

    if Animation._meta.db_table in connections[using].introspection.table_names():
        sync_bundled(Animation.objects.db_manager(using))


class AssetsConfig(AppConfig):
    name = "assets"
    verbose_name = "Animation assets"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from assets import receivers

        post_migrate.connect(_load_bundled, sender=self, dispatch_uid="assets-load-bundled")
        receivers.connect()
