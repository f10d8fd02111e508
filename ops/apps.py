from django.apps import AppConfig


class OpsConfig(AppConfig):
    """Operator-facing parts above the product apps: SSE stream, reaper, dashboard, health, retention."""

    name = "ops"
    verbose_name = "Operations"
