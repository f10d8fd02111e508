"""The admin site as an operations console: what an operator needs first, then everything else.

The index opens with one "Operations" section (users, plans, videos and every registered job kind, next to
the dashboard link of ``templates/admin/index.html``); the remaining apps follow, still reachable, with
allauth's e-mail addresses folded into our one "Accounts" section instead of a second one.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

# The models an operator works with every day, in this order; job kinds follow from the registry.
FIRST = ["accounts.User", "accounts.Plan", "uploads.Video"]
MERGED_INTO = {"account": "accounts"}  # allauth's "Accounts" (e-mail addresses) joins ours


class OpsAdminSite(admin.AdminSite):
    site_header = "ECG operations"
    site_title = "ECG admin"
    index_title = "Operations"

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict]:
        apps = super().get_app_list(request, app_label)
        if app_label is not None:
            return apps
        return group_for_operators(apps)


def first_models() -> list[str]:
    from ecg.jobs import job_kinds

    return [*FIRST, *(kind.label for kind in job_kinds())]


def group_for_operators(apps: list[dict]) -> list[dict]:
    """Pull the everyday models into a leading "Operations" section; merge split app sections."""
    by_label = {app["app_label"]: app for app in apps}
    for source, target in MERGED_INTO.items():
        if source in by_label and target in by_label:
            by_label[target]["models"] = sorted(by_label[target]["models"] + by_label.pop(source)["models"],
                                                key=lambda m: str(m["name"]))
    wanted = first_models()
    first: list[dict] = []
    for label in wanted:
        for app in by_label.values():
            for entry in app["models"]:
                if entry["model"]._meta.label == label:
                    first.append(entry)
    picked = {id(entry) for entry in first}
    rest = []
    for app in by_label.values():
        app["models"] = [m for m in app["models"] if id(m) not in picked]
        if app["models"]:
            rest.append(app)
    if not first:
        return rest
    operations = {"name": _("Operations"), "app_label": "operations", "app_url": reverse("admin-dashboard"),
                  "has_module_perms": True, "models": first}
    return [operations, *rest]


class OpsAdminConfig(AdminConfig):
    """``django.contrib.admin`` with ``OpsAdminSite`` as the default site (in INSTALLED_APPS instead of it)."""

    default_site = "ops.sites.OpsAdminSite"
