"""Staff upload of an animation plugin as a zip: validated before anything is stored, stored in storage
(local or S3), served by the origin and rendered once published; broken or malicious zips change nothing."""

from __future__ import annotations

import io
import json
import stat
import zipfile
from pathlib import Path

import boto3
import pytest
from django.core.files.storage import default_storage
from rest_framework.test import APIClient
from support import moto_s3_server

from assets.bundles import MAX_FILE_BYTES, MAX_ZIP_BYTES, BundleInvalid, read_bundle
from assets.models import Animation
from rendering.pipeline.errors import RenderError
from rendering.pipeline.plugins import resolve_plugins
from rendering.runner import job_plugin_dirs

pytestmark = pytest.mark.django_db
BUNDLED = Path(__file__).resolve().parents[2] / "assets" / "plugins" / "pulse@2.0.0"
UPLOAD_URL = "/admin/assets/animation/upload/"


def plugin_files(name: str = "sparkle", version: str = "1.0.0") -> dict[str, bytes]:
    manifest = json.loads((BUNDLED / "manifest.json").read_text())
    manifest.update(name=name, version=version)
    module = (BUNDLED / "index.mjs").read_text().replace('"pulse"', f'"{name}"')
    return {"manifest.json": json.dumps(manifest).encode(), "index.mjs": module.encode(),
            "assets/thumbnail.svg": (BUNDLED / "assets" / "thumbnail.svg").read_bytes()}


def make_zip(files: dict[str, bytes], *, prefix: str = "", symlinks: dict[str, str] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(prefix + name, data)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(prefix + name)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return buf.getvalue()


@pytest.fixture
def staff(make_user):
    user = make_user("admin@example.com", is_staff=True, is_superuser=True)
    client = APIClient()
    client.force_login(user)
    return client


def upload(client, data: bytes, **fields):
    body = {"title": "반짝임", "title_en": "Sparkle", "category": "Unique", "description": "", "description_en": "",
            "icon_name": "IoSparklesOutline", "tags": "text sparkle", **fields}
    body["bundle"] = io.BytesIO(data)
    body["bundle"].name = "plugin.zip"
    return client.post(UPLOAD_URL, body, format="multipart")


def nothing_stored() -> bool:
    root = Path(default_storage.location) / "plugins"
    return not root.exists() or not any(p.is_file() for p in root.rglob("*"))


def test_good_upload_is_stored_unpublished_then_served_and_rendered(staff, api, settings):
    response = upload(staff, make_zip(plugin_files(), prefix="sparkle@1.0.0/"))  # the folder itself, zipped
    assert response.status_code == 302, response.context["form"].errors if response.context else response
    row = Animation.objects.get(plugin_key="sparkle@1.0.0")
    assert not row.is_published and row.source == "upload" and row.title_en == "Sparkle"
    assert set(row.files) == {"manifest.json", "index.mjs", "assets/thumbnail.svg"}
    assert default_storage.exists("plugins/sparkle@1.0.0/index.mjs")
    # Unpublished: not listed, not served, not rendered.
    assert "sparkle@1.0.0" not in [a["pluginKey"] for a in api.get("/api/v1/assets").json()["assets"]]
    assert api.get("/plugins/sparkle@1.0.0/index.mjs").status_code == 404
    with pytest.raises(RenderError) as info:
        resolve_plugins(["sparkle@1.0.0"], plugin_dirs=job_plugin_dirs(_scenario("sparkle@1.0.0")))
    assert info.value.code == "RENDER_PLUGIN_NOT_FOUND" and "sparkle@1.0.0" in info.value.message

    publish = staff.post("/admin/assets/animation/", {"action": "publish", "_selected_action": [row.pk]})
    assert publish.status_code == 302
    assert "sparkle@1.0.0" in [a["pluginKey"] for a in api.get("/api/v1/assets").json()["assets"]]
    module = api.get("/plugins/sparkle%401.0.0/index.mjs")
    assert module.status_code == 200 and module["Content-Type"].startswith("text/javascript")
    assert module.content == plugin_files()["index.mjs"]
    assert api.get("/plugins/sparkle@1.0.0/assets/thumbnail.svg").status_code == 200
    [plugin] = resolve_plugins(["sparkle@1.0.0"], plugin_dirs=job_plugin_dirs(_scenario("sparkle@1.0.0")))
    assert plugin.source == "catalogue" and Path(plugin.directory, "index.mjs").read_bytes() == module.content
    assert str(settings.WORK_DIR) in plugin.directory

    again = upload(staff, make_zip(plugin_files()))
    assert again.status_code == 200 and "already in the catalogue" in again.content.decode()


def _scenario(name: str) -> dict:
    word = {"id": "w", "eType": "text", "text": "hi", "baseTime": [0, 1], "pluginChain": [{"name": name}]}
    return {"version": "2.0", "cues": [{"id": "c", "track": "t", "root": {"id": "r", "eType": "group",
                                                                          "children": [word]}}]}


def test_unpublished_bundled_animation_does_not_render():
    Animation.objects.filter(plugin_key="spin@2.0.0").update(is_published=False)
    with pytest.raises(RenderError) as info:
        resolve_plugins(["spin@2.0.0"], plugin_dirs=job_plugin_dirs(_scenario("spin@2.0.0")))
    assert info.value.code == "RENDER_PLUGIN_NOT_FOUND" and "spin@2.0.0" in info.value.message
    [plugin] = resolve_plugins(["pulse@2.0.0"], plugin_dirs=job_plugin_dirs(_scenario("pulse@2.0.0")))
    assert plugin.source == "catalogue"


def _bad_manifest(**changes) -> dict[str, bytes]:
    files = plugin_files()
    manifest = json.loads(files["manifest.json"])
    for key, value in changes.items():
        if value is None:
            manifest.pop(key, None)
        else:
            manifest[key] = value
    files["manifest.json"] = json.dumps(manifest).encode()
    return files


def _without(name: str) -> dict[str, bytes]:
    files = plugin_files()
    del files[name]
    return files


MALICIOUS = {
    "zip-slip": (make_zip({**plugin_files(), "../../evil.mjs": b"x"}), "'..'"),
    "absolute path": (make_zip({**plugin_files(), "/etc/evil.mjs": b"x"}), "relative"),
    "backslash": (make_zip({**plugin_files(), "assets\\..\\evil.mjs": b"x"}), "relative"),
    "symlink": (make_zip(plugin_files(), symlinks={"assets/link.svg": "/etc/passwd"}), "symbolic links"),
    "oversize file": (make_zip({**plugin_files(), "assets/big.png": b"\0" * (MAX_FILE_BYTES + 1)}), "larger than"),
    "oversize zip": (b"PK" + b"\1" * (MAX_ZIP_BYTES + 1), "larger than"),
    "unpacked total": (make_zip({**plugin_files(), **{f"assets/p{i}.png": b"\0" * (MAX_FILE_BYTES - 1)
                                                      for i in range(3)}}), "unpacked"),
    "not a zip": (b"hello", "not a zip"),
    "odd file type": (make_zip({**plugin_files(), "run.sh": b"#!/bin/sh"}), "file type"),
    "manifest not json": (make_zip({**plugin_files(), "manifest.json": b"{nope"}), "not valid"),
    "manifest missing": (make_zip(_without("manifest.json")), "manifest.json is missing"),
    "entry missing": (make_zip(_without("index.mjs")), "entry module"),
    "thumbnail missing": (make_zip(_without("assets/thumbnail.svg")), "thumbnail"),
    "old plugin api": (make_zip(_bad_manifest(pluginApi="2.1")), "pluginApi"),
    "bad name": (make_zip(_bad_manifest(name="../x")), "name"),
    "bad type": (make_zip(_bad_manifest(type="worker")), "type"),
    "schema without default": (make_zip(_bad_manifest(schema={"x": {"type": "number"}})), "default"),
    "entry outside": (make_zip(_bad_manifest(entry="../index.mjs")), "entry"),
    "folder mismatch": (make_zip(plugin_files(), prefix="other@1.0.0/"), "does not match"),
}


@pytest.mark.parametrize("case", sorted(MALICIOUS))
def test_broken_or_malicious_upload_is_refused_and_changes_nothing(staff, case):
    data, why = MALICIOUS[case]
    with pytest.raises(BundleInvalid) as info:
        read_bundle(data)
    assert why in str(info.value), str(info.value)
    before = Animation.objects.count()
    response = upload(staff, data)
    assert response.status_code == 200  # the form again, with the reason
    assert "Refused" in response.content.decode() or "larger than" in response.content.decode()
    assert Animation.objects.count() == before
    assert nothing_stored()


@pytest.fixture
def s3(settings):
    endpoint, server = moto_s3_server("ecg-plugins")
    settings.STORAGES = {
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
            "bucket_name": "ecg-plugins", "endpoint_url": endpoint, "region_name": "us-east-1", "access_key": "test",
            "secret_key": "test", "signature_version": "s3v4", "file_overwrite": True, "default_acl": None}},
        "staticfiles": settings.STORAGES["staticfiles"],
    }
    yield endpoint
    server.stop()


def test_upload_to_s3_is_served_from_s3(staff, api, s3):
    assert upload(staff, make_zip(plugin_files("s3spark"))).status_code == 302
    objects = boto3.client("s3", endpoint_url=s3, region_name="us-east-1", aws_access_key_id="test",
                           aws_secret_access_key="test").list_objects_v2(Bucket="ecg-plugins")["Contents"]
    assert {o["Key"] for o in objects} == {"plugins/s3spark@1.0.0/manifest.json", "plugins/s3spark@1.0.0/index.mjs",
                                           "plugins/s3spark@1.0.0/assets/thumbnail.svg"}
    Animation.objects.filter(plugin_key="s3spark@1.0.0").update(is_published=True)
    manifest = api.get("/plugins/s3spark@1.0.0/manifest.json")
    assert manifest.status_code == 200 and manifest.json()["name"] == "s3spark"


def test_admin_pages_show_counts_and_edit_flags(staff, make_user):
    from assets.models import Favorite

    fan = make_user("fan@example.com")
    Favorite.objects.create(user=fan, plugin_key="glow@2.0.0")
    Animation.objects.filter(plugin_key="glow@2.0.0").update(usage_count=3)
    page = staff.get("/admin/assets/animation/?o=7")  # sorted by likes
    assert page.status_code == 200
    html = page.content.decode()
    assert "glow@2.0.0" in html and "/plugins/glow@2.0.0/assets/thumbnail.svg" in html
    glow = Animation.objects.get(plugin_key="glow@2.0.0")
    change = staff.get(f"/admin/assets/animation/{glow.pk}/change/")
    assert change.status_code == 200 and "&quot;name&quot;: &quot;glow&quot;" in change.content.decode()
    assert staff.get("/admin/assets/animation/add/").status_code == 302  # adding = uploading
    assert staff.get(UPLOAD_URL).status_code == 200
    assert staff.get("/admin/assets/favorite/").status_code == 200
    staff.post("/admin/assets/animation/", {"action": "mark_pro", "_selected_action": [glow.pk]})
    staff.post("/admin/assets/animation/", {"action": "unpublish", "_selected_action": [glow.pk]})
    glow.refresh_from_db()
    assert glow.is_pro and not glow.is_published
    assert Favorite.objects.filter(plugin_key="glow@2.0.0").exists()  # favorites survive unpublishing


def test_non_staff_cannot_upload(make_user):
    client = APIClient()
    client.force_login(make_user("plain@example.com"))
    response = upload(client, make_zip(plugin_files()))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert not Animation.objects.filter(plugin_key="sparkle@1.0.0").exists() and nothing_stored()
